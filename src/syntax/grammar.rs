//! The parser pest derives from `grammar/powershell.pest`.

use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../grammar/powershell.pest"]
pub(crate) struct PsGrammar;
