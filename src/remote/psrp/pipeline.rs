//! A CREATE_PIPELINE message read into statements of commands, and those
//! turned into script text the session runs. Argument values never become
//! text: each is bound to a variable the script refers to, so a value
//! cannot inject code; command and parameter names are checked or quoted.

use crate::clixml::{self, Node};
use crate::runtime::value::Value;

/// One command of a pipeline as the client sent it.
#[derive(Debug)]
pub struct Command {
    pub text: String,
    pub is_script: bool,
    /// `(name, value)`; no name for a positional argument.
    pub args: Vec<(Option<String>, Value)>,
}

impl Command {
    pub fn is(&self, name: &str) -> bool {
        !self.is_script && self.text.eq_ignore_ascii_case(name)
    }
}

/// What the client asked to run.
#[derive(Debug)]
pub struct Spec {
    /// Statements, each a pipeline of commands.
    pub statements: Vec<Vec<Command>>,
    pub no_input: bool,
}

impl Spec {
    /// Every statement ends in `Out-Default`: the console's way of
    /// asking for text (Enter-PSSession), which the server renders.
    pub fn renders_text(&self) -> bool {
        !self.statements.is_empty()
            && self
                .statements
                .iter()
                .all(|s| s.last().is_some_and(|c| c.is("Out-Default")))
    }

    pub fn first(&self) -> Option<&Command> {
        self.statements.first().and_then(|s| s.first())
    }
}

pub fn parse(root: &Node) -> Result<Spec, String> {
    let no_input = match root.prop("NoInput") {
        Some(n) => n.text.trim().eq_ignore_ascii_case("true"),
        None => true,
    };
    let ps = root
        .prop("PowerShell")
        .ok_or("the pipeline has no PowerShell member")?;
    let groups: Vec<&Node> = match ps.prop("ExtraCmds") {
        Some(extra) => extra
            .items()
            .iter()
            .filter_map(|s| s.prop("Cmds"))
            .collect(),
        None => vec![ps.prop("Cmds").ok_or("the pipeline has no commands")?],
    };
    let mut cx = clixml::read::Cx::default();
    let mut statements = Vec::new();
    for g in groups {
        let mut cmds = Vec::new();
        for c in g.items() {
            let text = c
                .prop("Cmd")
                .map(|n| clixml::unescape(&n.text))
                .ok_or("a command has no Cmd")?;
            let is_script = c
                .prop("IsScript")
                .is_some_and(|n| n.text.trim().eq_ignore_ascii_case("true"));
            let mut args = Vec::new();
            if let Some(a) = c.prop("Args") {
                for arg in a.items() {
                    let name = arg
                        .prop("N")
                        .filter(|n| n.tag == "S")
                        .map(|n| clixml::unescape(&n.text));
                    let value = match arg.prop("V") {
                        Some(v) => cx.value(v).map_err(|e| e.to_string())?,
                        None => Value::Null,
                    };
                    args.push((name, value));
                }
            }
            cmds.push(Command {
                text,
                is_script,
                args,
            });
        }
        if !cmds.is_empty() {
            statements.push(cmds);
        }
    }
    if statements.is_empty() {
        return Err("the pipeline has no commands".into());
    }
    Ok(Spec {
        statements,
        no_input,
    })
}

/// Script text for the statements, and the values its variables must
/// hold. Input, when there is any, is piped into the first statement from
/// `input`. With `drop_out_default`, the statements' trailing
/// `Out-Default` is left out (the session formats output itself).
pub fn script(
    spec: &Spec,
    var: &str,
    input: Option<&str>,
    drop_out_default: bool,
) -> Result<(String, Vec<Value>), String> {
    let mut values = Vec::new();
    let mut text = String::new();
    for (si, statement) in spec.statements.iter().enumerate() {
        let mut cmds: Vec<&Command> = statement.iter().collect();
        if drop_out_default && cmds.last().is_some_and(|c| c.is("Out-Default")) {
            cmds.pop();
        }
        let mut parts = Vec::new();
        if si == 0
            && let Some(input) = input
        {
            parts.push(format!("${input}"));
        }
        // A lone script runs as itself, at the top level, so that its
        // variables and functions stay for the next pipeline.
        let alone = cmds.len() == 1 && parts.is_empty();
        for c in cmds {
            let mut part = if c.is_script {
                if alone && c.args.is_empty() {
                    c.text.clone()
                } else {
                    format!(". {{\n{}\n}}", c.text)
                }
            } else if is_bare_name(&c.text) {
                c.text.clone()
            } else {
                format!("& '{}'", c.text.replace('\'', "''"))
            };
            for (name, value) in &c.args {
                let v = format!("${var}{}", values.len());
                values.push(value.clone());
                match name {
                    Some(n) => {
                        let n = n.trim_start_matches('-');
                        if !is_parameter_name(n) {
                            return Err(format!("'{n}' is not a valid parameter name"));
                        }
                        part.push_str(&format!(" -{n}:{v}"));
                    }
                    None => part.push_str(&format!(" {v}")),
                }
            }
            parts.push(part);
        }
        if !parts.is_empty() {
            // Statements on lines of their own, with no line after the
            // last: a one-line command's errors read as they do locally.
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&parts.join(" | "));
        }
    }
    Ok((text, values))
}

/// A command name that can stand as it is: a cmdlet or function name.
fn is_bare_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn is_parameter_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(text: &str, is_script: bool, args: Vec<(Option<&str>, Value)>) -> Command {
        Command {
            text: text.into(),
            is_script,
            args: args
                .into_iter()
                .map(|(n, v)| (n.map(str::to_string), v))
                .collect(),
        }
    }

    #[test]
    fn values_are_bound_not_spliced() {
        let spec = Spec {
            statements: vec![vec![
                cmd(
                    "Get-CsUser",
                    false,
                    vec![(Some("Identity"), Value::from("'; rm -r /"))],
                ),
                cmd("Select-Object", false, vec![(None, Value::from("Name"))]),
                cmd("Out-Default", false, vec![]),
            ]],
            no_input: true,
        };
        assert!(spec.renders_text());
        let (text, values) = script(&spec, "v", None, true).unwrap();
        assert_eq!(text, "Get-CsUser -Identity:$v0 | Select-Object $v1");
        assert_eq!(values.len(), 2);
        let (text, _) = script(&spec, "v", Some("in"), false).unwrap();
        assert_eq!(
            text,
            "$in | Get-CsUser -Identity:$v0 | Select-Object $v1 | Out-Default"
        );
    }

    #[test]
    fn scripts_and_odd_names() {
        let spec = Spec {
            statements: vec![
                vec![cmd("$x = 1", true, vec![])],
                vec![cmd("my cmd", false, vec![(Some("a;b"), Value::Null)])],
            ],
            no_input: true,
        };
        assert_eq!(
            script(&spec, "v", None, false).unwrap_err(),
            "'a;b' is not a valid parameter name"
        );
        let spec = Spec {
            statements: vec![
                vec![cmd("$x = 1", true, vec![])],
                vec![cmd("it's", false, vec![])],
            ],
            no_input: true,
        };
        assert_eq!(
            script(&spec, "v", None, false).unwrap().0,
            "$x = 1\n& 'it''s'"
        );
    }
}
