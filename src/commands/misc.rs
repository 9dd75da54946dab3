//! (to be written)

use crate::commands::CommandInfo;

pub fn infos() -> Vec<CommandInfo> {
    Vec::new()
}
