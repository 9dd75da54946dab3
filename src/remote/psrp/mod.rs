//! The `powershell` subsystem: PowerShell remoting (PSRP) over SSH, so
//! that pwsh 7's `Enter-PSSession -HostName` and `Invoke-Command
//! -HostName` reach lyncsh. Layers, outside in: [`packets`] (the OutOfProc
//! transport's XML lines and acks), [`fragments`] (messages cut into
//! fragments and reassembled), [`message`] (the 40-byte header and the
//! message types), [`wire`] (the client's packets as events, acked),
//! [`records`] (the CLIXML of what the server sends),
//! [`pipeline`] (CREATE_PIPELINE read and turned into script text),
//! [`out`] (a session's streams as messages) and [`pool`] (the runspace
//! pool, driven by the session's interpreter), with [`host_calls`] (the
//! questions a pipeline asks the client's host). The facts behind it are in
//! `reference/psrp.md`.

pub mod fragments;
pub mod host_calls;
pub mod message;
pub mod out;
pub mod packets;
pub mod pipeline;
pub mod pool;
pub mod records;
pub mod wire;
