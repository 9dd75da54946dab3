//! Cmdlets that need all of their input before they can write anything
//! (formatting, sorting, serialising): `Gathered<C>` keeps each
//! `-InputObject` as it arrives and hands the whole list to `C` at the end.

use crate::commands::{Args, Cx, Processor};
use crate::runtime::error::Res;
use crate::runtime::value::Value;

/// What such a cmdlet does once its input is complete.
pub trait AllInput: Default {
    fn finish(&self, cx: &mut Cx, args: &Args, items: Vec<Value>) -> Res<()>;
}

#[derive(Default)]
pub struct Gathered<C> {
    items: Vec<Value>,
    cmd: C,
}

impl<C: AllInput> Processor for Gathered<C> {
    fn process(&mut self, _: &mut Cx, args: &Args) -> Res<()> {
        if let Some(v) = args.get("InputObject") {
            self.items.push(v.clone());
        }
        Ok(())
    }

    fn end(&mut self, cx: &mut Cx, args: &Args) -> Res<()> {
        let items = std::mem::take(&mut self.items);
        self.cmd.finish(cx, args, items)
    }
}
