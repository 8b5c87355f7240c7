//! The built-in templates, parsed once at build time: `build.rs` parses each with Tera and
//! writes its syntax tree with [`encode`]; the binary reads them back with [`decode`] in
//! about 0.35 ms, where parsing 70 KB of templates with pest took about 20 on every run.
//!
//! Tera has no serialisation of its own, so this walks its (public, doc-hidden) syntax tree.
//! Tera is pinned to one version in Cargo.toml: a new field or variant there fails to compile
//! here, and `tests::every_builtin_template_round_trips` catches anything else.
//!
//! `build.rs` includes this file too, so it uses nothing but std and Tera.

use std::collections::HashMap;

use tera::Template;
use tera::ast::{
    Block, Expr, ExprVal, FilterSection, Forloop, FunctionCall, If, In, LogicExpr, LogicOperator,
    MacroCall, MacroDefinition, MathExpr, MathOperator, Node, Set, StringConcat, Test, WS,
};

/// Every template of `templates` (name and parsed template), one after the other.
pub fn encode<'a>(templates: impl IntoIterator<Item = &'a Template>) -> Vec<u8> {
    let mut out = Vec::new();
    for template in templates {
        template.name.put(&mut out);
        template.ast.put(&mut out);
        template.macros.put(&mut out);
        template.imported_macro_files.put(&mut out);
        template.parent.put(&mut out);
        template.blocks.put(&mut out);
    }
    out
}

/// The templates [`encode`] wrote, as Tera's parser would have made them; their inheritance
/// chains are left for `Tera::build_inheritance_chains`.
pub fn decode(mut input: &[u8]) -> Vec<Template> {
    let input = &mut input;
    let mut templates = Vec::new();
    while !input.is_empty() {
        templates.push(Template {
            name: Codec::take(input),
            path: None,
            ast: Codec::take(input),
            from_extend: false,
            macros: Codec::take(input),
            imported_macro_files: Codec::take(input),
            parent: Codec::take(input),
            blocks: Codec::take(input),
            parents: Vec::new(),
            blocks_definitions: HashMap::new(),
        });
    }
    templates
}

trait Codec: Sized {
    fn put(&self, out: &mut Vec<u8>);
    /// Panics on bytes that `put` did not write: they come from this crate's own build.
    fn take(input: &mut &[u8]) -> Self;
}

fn take_bytes<'a>(input: &mut &'a [u8], len: usize) -> &'a [u8] {
    let (head, rest) = input.split_at(len);
    *input = rest;
    head
}

impl Codec for u64 {
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(input: &mut &[u8]) -> Self {
        u64::from_le_bytes(take_bytes(input, 8).try_into().expect("eight bytes"))
    }
}

impl Codec for usize {
    fn put(&self, out: &mut Vec<u8>) {
        let len = u32::try_from(*self).expect("a template's lengths fit in 32 bits");
        out.extend_from_slice(&len.to_le_bytes());
    }
    fn take(input: &mut &[u8]) -> Self {
        u32::from_le_bytes(take_bytes(input, 4).try_into().expect("four bytes")) as usize
    }
}

impl Codec for u8 {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn take(input: &mut &[u8]) -> Self {
        take_bytes(input, 1)[0]
    }
}

impl Codec for bool {
    fn put(&self, out: &mut Vec<u8>) {
        u8::from(*self).put(out);
    }
    fn take(input: &mut &[u8]) -> Self {
        u8::take(input) != 0
    }
}

impl Codec for i64 {
    fn put(&self, out: &mut Vec<u8>) {
        (*self as u64).put(out);
    }
    fn take(input: &mut &[u8]) -> Self {
        u64::take(input) as i64
    }
}

impl Codec for f64 {
    fn put(&self, out: &mut Vec<u8>) {
        self.to_bits().put(out);
    }
    fn take(input: &mut &[u8]) -> Self {
        f64::from_bits(u64::take(input))
    }
}

impl Codec for String {
    fn put(&self, out: &mut Vec<u8>) {
        self.len().put(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn take(input: &mut &[u8]) -> Self {
        let len = usize::take(input);
        String::from_utf8(take_bytes(input, len).to_vec()).expect("encoded from a String")
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        self.len().put(out);
        self.iter().for_each(|item| item.put(out));
    }
    fn take(input: &mut &[u8]) -> Self {
        let len = usize::take(input);
        (0..len).map(|_| T::take(input)).collect()
    }
}

impl<T: Codec> Codec for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        self.is_some().put(out);
        if let Some(value) = self {
            value.put(out);
        }
    }
    fn take(input: &mut &[u8]) -> Self {
        bool::take(input).then(|| T::take(input))
    }
}

impl<T: Codec> Codec for Box<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (**self).put(out);
    }
    fn take(input: &mut &[u8]) -> Self {
        Box::new(T::take(input))
    }
}

impl<T: Codec> Codec for HashMap<String, T> {
    fn put(&self, out: &mut Vec<u8>) {
        self.len().put(out);
        for (key, value) in self {
            key.put(out);
            value.put(out);
        }
    }
    fn take(input: &mut &[u8]) -> Self {
        let len = usize::take(input);
        (0..len)
            .map(|_| (String::take(input), T::take(input)))
            .collect()
    }
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(input: &mut &[u8]) -> Self {
        (A::take(input), B::take(input))
    }
}

impl<A: Codec, B: Codec, C: Codec> Codec for (A, B, C) {
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
        self.2.put(out);
    }
    fn take(input: &mut &[u8]) -> Self {
        (A::take(input), B::take(input), C::take(input))
    }
}

/// A struct as its fields in order. The struct literal in `take` names every field, so a
/// field Tera adds is a compile error here rather than a silently lost value.
macro_rules! fields {
    ($type:ident { $($field:ident),+ }) => {
        impl Codec for $type {
            fn put(&self, out: &mut Vec<u8>) {
                $(self.$field.put(out);)+
            }
            fn take(input: &mut &[u8]) -> Self {
                $type { $($field: Codec::take(input)),+ }
            }
        }
    };
}

fields!(WS { left, right });
fields!(FunctionCall { name, args });
fields!(MathExpr { lhs, rhs, operator });
fields!(LogicExpr { lhs, rhs, operator });
fields!(StringConcat { values });
fields!(In { lhs, rhs, negated });
fields!(Expr {
    val,
    negated,
    filters
});
fields!(Test {
    ident,
    negated,
    name,
    args
});
fields!(FilterSection { filter, body });
fields!(Set { key, value, global });
fields!(MacroCall {
    namespace,
    name,
    args
});
fields!(MacroDefinition { name, args, body });
fields!(Block { name, body });
fields!(Forloop {
    key,
    value,
    container,
    body,
    empty_body
});
fields!(If {
    conditions,
    otherwise
});

/// A field-less enum as its variant's position in the list.
macro_rules! unit_variants {
    ($type:ident { $($variant:ident),+ }) => {
        impl Codec for $type {
            fn put(&self, out: &mut Vec<u8>) {
                const ALL: &[$type] = &[$($type::$variant),+];
                let tag = ALL.iter().position(|variant| variant == self).expect("listed");
                (tag as u8).put(out);
            }
            fn take(input: &mut &[u8]) -> Self {
                const ALL: &[$type] = &[$($type::$variant),+];
                ALL[usize::from(u8::take(input))]
            }
        }
    };
}

unit_variants!(MathOperator {
    Add,
    Sub,
    Mul,
    Div,
    Modulo
});
unit_variants!(LogicOperator {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    NotEq,
    And,
    Or
});

/// An enum as a tag byte, then the variant's fields in order. Each variant is listed with
/// its tag and the names its fields bind to; the match in `put` is exhaustive.
macro_rules! variants {
    ($type:ident { $($tag:literal => $variant:ident $(( $($binding:ident),+ ))?),+ $(,)? }) => {
        impl Codec for $type {
            fn put(&self, out: &mut Vec<u8>) {
                match self {
                    $($type::$variant $(( $($binding),+ ))? => {
                        ($tag as u8).put(out);
                        $($($binding.put(out);)+)?
                    })+
                }
            }
            fn take(input: &mut &[u8]) -> Self {
                match u8::take(input) {
                    $($tag => $type::$variant $(( $({
                        let $binding = Codec::take(input);
                        $binding
                    }),+ ))?,)+
                    tag => panic!("no {} variant has the tag {tag}", stringify!($type)),
                }
            }
        }
    };
}

variants!(ExprVal {
    0 => String(text),
    1 => Int(number),
    2 => Float(number),
    3 => Bool(value),
    4 => Ident(name),
    5 => Math(expr),
    6 => Logic(expr),
    7 => Test(test),
    8 => MacroCall(call),
    9 => FunctionCall(call),
    10 => Array(items),
    11 => StringConcat(concat),
    12 => In(expr),
});

variants!(Node {
    0 => Super,
    1 => Text(text),
    2 => VariableBlock(ws, expr),
    3 => MacroDefinition(start, definition, end),
    4 => Extends(ws, name),
    5 => Include(ws, names, ignore_missing),
    6 => ImportMacro(ws, file, namespace),
    7 => Set(ws, set),
    8 => Raw(start, text, end),
    9 => FilterSection(start, section, end),
    10 => Block(start, block, end),
    11 => Forloop(start, forloop, end),
    12 => If(branches, ws),
    13 => Break(ws),
    14 => Continue(ws),
    15 => Comment(ws, text),
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_template_round_trips() {
        let set = crate::generate::render::TemplateSet::load(true, None).unwrap();
        let parsed: Vec<Template> = set
            .names()
            .map(|name| Template::new(name, None, set.source(name).unwrap()).unwrap())
            .collect();
        let decoded = decode(&encode(&parsed));
        assert_eq!(decoded.len(), parsed.len());
        for (decoded, parsed) in decoded.iter().zip(&parsed) {
            assert_eq!(decoded.name, parsed.name);
            assert_eq!(decoded.ast, parsed.ast, "{}", parsed.name);
            assert_eq!(decoded.macros, parsed.macros, "{}", parsed.name);
            assert_eq!(decoded.imported_macro_files, parsed.imported_macro_files);
            assert_eq!(decoded.parent, parsed.parent);
            assert_eq!(decoded.blocks, parsed.blocks, "{}", parsed.name);
        }
    }

    #[test]
    fn every_kind_of_node_round_trips() {
        let source = r#"{% extends "base" %}{% import "macros" as m %}
{%- macro greet(name, greeting="hi") -%}{{ greeting }} {{ name }}{%- endmacro greet -%}
{% block body %}{{ super() }}{% set x = [1, 2.5, true, "s" ~ y] | join(sep=",") %}
{% set_global g = a + b * c / d % e - f > 1 and not z or q not in r %}
{% for k, v in map %}{% if v is defined %}{% break %}{% elif v is not odd %}{% continue %}
{% else %}{{ m::greet(name=k) }}{{ now() }}{% endif %}{% else %}empty{% endfor %}
{% filter upper %}text{% endfilter %}{% raw %}{{ raw }}{% endraw %}{# comment #}
{% include ["a", "b"] ignore missing %}{{ -1 }}{% endblock body %}"#;
        let parsed = Template::new("every", None, source).unwrap();
        let decoded = decode(&encode([&parsed])).remove(0);
        assert_eq!(decoded.ast, parsed.ast);
        assert_eq!(decoded.macros, parsed.macros);
        assert_eq!(decoded.imported_macro_files, parsed.imported_macro_files);
        assert_eq!(decoded.parent, parsed.parent);
        assert_eq!(decoded.blocks, parsed.blocks);
    }
}
