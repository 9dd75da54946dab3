//! Measure-Object: counts objects and sums, averages and bounds of a
//! property, or counts lines, words and characters of text.

use crate::commands::{Args, CommandInfo, Cx, Example, Processor, Signature, typed_object};
use crate::runtime::convert::to_f64;
use crate::runtime::error::{Flow, Res};
use crate::runtime::ops;
use crate::runtime::types::PsType;
use crate::runtime::value::Value;

pub fn infos() -> Vec<CommandInfo> {
    vec![
        CommandInfo::new::<MeasureObject>(
            "Measure-Object",
            "Counts objects and computes sums, averages, minimums and maximums.",
            Signature::new()
                .named(
                    "Property",
                    PsType::Array(Some(Box::new(PsType::String))),
                    "The numeric properties to measure.",
                )
                .positional(0)
                .switch("Sum", "Adds up the values.")
                .switch("Average", "Averages the values.")
                .switch("Minimum", "Finds the smallest value.")
                .switch("Maximum", "Finds the largest value.")
                .switch("StandardDeviation", "Computes the standard deviation.")
                .switch("AllStats", "All of the statistics.")
                .switch("Line", "Counts lines of text.")
                .switch("Word", "Counts words of text.")
                .switch("Character", "Counts characters of text.")
                .named("InputObject", PsType::Object, "The objects to measure.")
                .from_pipeline(),
        )
        .aliases(&["measure"])
        .examples(&[Example {
            code: "Get-CsUser -Filter {ConferencingPolicy -eq 'Anonymous'} | Measure-Object",
            about: "Counts the users holding a policy.",
        }]),
    ]
}

#[derive(Default)]
struct MeasureObject {
    items: Vec<Value>,
    /// Objects counted without being kept, when only the count is asked
    /// for (so `Get-CsUser | Measure-Object` streams).
    counted: usize,
}

/// Only Count is wanted: no property, no statistics, no text measures.
fn count_only(args: &Args) -> bool {
    !args.has("Property")
        && ![
            "Sum",
            "Average",
            "Maximum",
            "Minimum",
            "StandardDeviation",
            "AllStats",
            "Line",
            "Word",
            "Character",
        ]
        .iter()
        .any(|s| args.switch(s))
}

impl Processor for MeasureObject {
    fn counts_only(&self, args: &Args) -> bool {
        count_only(args) && !args.has("InputObject")
    }

    fn add_count(&mut self, n: u64) {
        self.counted = self
            .counted
            .saturating_add(usize::try_from(n).unwrap_or(usize::MAX));
    }

    fn process(&mut self, _: &mut Cx, args: &Args) -> Res<()> {
        if let Some(v) = args.get("InputObject") {
            if count_only(args) {
                self.counted += 1;
            } else {
                self.items.push(v.clone());
            }
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let items = std::mem::take(&mut self.items);
        if args.switch("Line") || args.switch("Word") || args.switch("Character") {
            let (mut lines, mut words, mut chars) = (0i64, 0i64, 0i64);
            for it in &items {
                let s = it.to_string();
                lines += s.lines().filter(|l| !l.trim().is_empty()).count() as i64;
                words += s.split_whitespace().count() as i64;
                chars += s.chars().count() as i64;
            }
            let pick = |on: bool, n: i64| if on { Value::from(n) } else { Value::Null };
            return cx.emit(typed_object(
                "Microsoft.PowerShell.Commands.TextMeasureInfo",
                vec![
                    ("Lines", pick(args.switch("Line"), lines)),
                    ("Words", pick(args.switch("Word"), words)),
                    ("Characters", pick(args.switch("Character"), chars)),
                    ("Property", Value::Null),
                ],
            ));
        }
        let props: Vec<Option<String>> = match args.get("Property") {
            Some(p) => p.enumerate().iter().map(|x| Some(x.to_string())).collect(),
            None => vec![None],
        };
        let all = args.switch("AllStats");
        for prop in props {
            let mut values = Vec::new();
            for it in &items {
                let v = match &prop {
                    Some(p) => {
                        let v = cx.it.get_member(it, p).map_err(Flow::error)?;
                        if v.is_null() {
                            continue;
                        }
                        v
                    }
                    None => it.clone(),
                };
                values.push(v);
            }
            let count = values.len() + self.counted;
            let numeric = |cx: &Cx| -> Res<Vec<f64>> {
                values
                    .iter()
                    .map(|v| to_f64(v).map_err(|e| cx.fail(e)))
                    .collect()
            };
            let want = |name: &str| all || args.switch(name);
            let sum = if want("Sum") || want("Average") || want("StandardDeviation") {
                Some(numeric(cx)?.iter().sum::<f64>())
            } else {
                None
            };
            let avg = sum
                .filter(|_| want("Average") && count > 0)
                .map(|s| s / count as f64);
            let extreme = |max: bool| -> Res<Value> {
                let mut best: Option<Value> = None;
                for v in &values {
                    let n = Value::Double(to_f64(v).map_err(|e| cx.fail(e))?);
                    best = Some(match best {
                        None => n,
                        Some(b) => {
                            let o =
                                ops::compare(&n, &b, false).unwrap_or(std::cmp::Ordering::Equal);
                            if (o == std::cmp::Ordering::Greater) == max
                                && o != std::cmp::Ordering::Equal
                            {
                                n
                            } else {
                                b
                            }
                        }
                    });
                }
                Ok(best.unwrap_or_default())
            };
            let sd = if want("StandardDeviation") && count > 1 {
                let nums = numeric(cx)?;
                let mean = nums.iter().sum::<f64>() / count as f64;
                Some(
                    (nums.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (count as f64 - 1.0))
                        .sqrt(),
                )
            } else {
                None
            };
            let num = |x: Option<f64>| x.map(Value::Double).unwrap_or_default();
            cx.emit(typed_object(
                "Microsoft.PowerShell.Commands.GenericMeasureInfo",
                vec![
                    ("Count", Value::from(count)),
                    ("Average", num(avg)),
                    ("Sum", if want("Sum") { num(sum) } else { Value::Null }),
                    (
                        "Maximum",
                        if want("Maximum") {
                            extreme(true)?
                        } else {
                            Value::Null
                        },
                    ),
                    (
                        "Minimum",
                        if want("Minimum") {
                            extreme(false)?
                        } else {
                            Value::Null
                        },
                    ),
                    ("StandardDeviation", num(sd)),
                    ("Property", prop.map(Value::from).unwrap_or_default()),
                ],
            ))?;
        }
        Ok(())
    }
}
