//! The formula's tokens: names (letters, digits, `_`, `.`, not starting
//! with a digit; any text between backticks), the numbers `0` and `1`, and
//! the symbols `~ + - * : / ^ | || ( ) ,`. Whitespace separates tokens.

use super::error::{FormulaError, Span};

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A name (column or keyword).
    Name(String),
    /// A number (only `0` and `1` mean something in a formula).
    Number(String),
    /// `~`
    Tilde,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `:`
    Colon,
    /// `/`
    Slash,
    /// `|`
    Bar,
    /// `||`
    DoubleBar,
    /// `(`
    Open,
    /// `)`
    Close,
    /// `,`
    Comma,
    /// `^` (inside `I(…)`)
    Caret,
}

impl Tok {
    /// How the token reads in a message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Name(s) => format!("`{s}`"),
            Tok::Number(s) => format!("`{s}`"),
            Tok::Tilde => "`~`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Bar => "`|`".into(),
            Tok::DoubleBar => "`||`".into(),
            Tok::Open => "`(`".into(),
            Tok::Close => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Caret => "`^`".into(),
        }
    }
}

/// Splits `text` into tokens with their spans.
pub(crate) fn lex(text: &str) -> Result<Vec<(Tok, Span)>, FormulaError> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let single = |t: Tok| (t, Span::new(i, i + c.len_utf8()));
        match c {
            c if c.is_whitespace() => {}
            '~' => out.push(single(Tok::Tilde)),
            '+' => out.push(single(Tok::Plus)),
            '-' => out.push(single(Tok::Minus)),
            '*' => out.push(single(Tok::Star)),
            ':' => out.push(single(Tok::Colon)),
            '/' => out.push(single(Tok::Slash)),
            '(' => out.push(single(Tok::Open)),
            ')' => out.push(single(Tok::Close)),
            ',' => out.push(single(Tok::Comma)),
            '^' => out.push(single(Tok::Caret)),
            '|' => {
                if let Some(&(_, '|')) = it.peek() {
                    it.next();
                    out.push((Tok::DoubleBar, Span::new(i, i + 2)));
                } else {
                    out.push(single(Tok::Bar));
                }
            }
            '`' => out.push(quoted_name(text, i, &mut it)?),
            c if c.is_ascii_digit() => {
                let end = run_end(i + 1, &mut it, |d| d.is_ascii_digit() || d == '.');
                out.push((Tok::Number(text[i..end].to_string()), Span::new(i, end)));
            }
            c if c.is_alphabetic() || c == '_' || c == '.' => {
                let end = run_end(i + c.len_utf8(), &mut it, |d| {
                    d.is_alphanumeric() || d == '_' || d == '.'
                });
                out.push((Tok::Name(text[i..end].to_string()), Span::new(i, end)));
            }
            c => {
                return Err(FormulaError::syntax(
                    text,
                    Span::new(i, i + c.len_utf8()),
                    "a name, a number, or one of ~ + - * : / ^ | || ( ) ,",
                    &format!("`{c}`"),
                ))
            }
        }
    }
    Ok(out)
}

/// The characters of `text`, with their byte offsets.
type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// A column name between backticks, the opening one at byte `i`.
fn quoted_name(text: &str, i: usize, it: &mut Chars) -> Result<(Tok, Span), FormulaError> {
    let start = i + 1;
    let mut end = None;
    for (j, d) in it.by_ref() {
        if d == '`' {
            end = Some(j);
            break;
        }
    }
    match end {
        Some(j) if j > start => Ok((Tok::Name(text[start..j].to_string()), Span::new(i, j + 1))),
        Some(j) => Err(FormulaError::syntax(
            text,
            Span::new(i, j + 1),
            "a column name between the backticks",
            "``",
        )),
        None => Err(FormulaError::syntax(
            text,
            Span::new(i, text.len()),
            "a closing backtick",
            "end of formula",
        )),
    }
}

/// The end of a run of characters that satisfy `more`, the run's first
/// character ending at byte `end`; consumes the run.
fn run_end(mut end: usize, it: &mut Chars, more: impl Fn(char) -> bool) -> usize {
    while let Some(&(j, d)) = it.peek() {
        if more(d) {
            end = j + d.len_utf8();
            it.next();
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_spans() {
        let t = lex("y ~ 1 + x:f + (1 + x || g)").unwrap();
        let toks: Vec<Tok> = t.iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(toks[0], Tok::Name("y".into()));
        assert_eq!(toks[1], Tok::Tilde);
        assert_eq!(toks[2], Tok::Number("1".into()));
        assert_eq!(toks[5], Tok::Colon);
        assert!(toks.contains(&Tok::DoubleBar));
        assert_eq!(t[4].1, Span::new(8, 9));
        let q = lex("`my col` ~ 1").unwrap();
        assert_eq!(q[0], (Tok::Name("my col".into()), Span::new(0, 8)));
        let e = lex("y ~ x $ z").unwrap_err();
        assert_eq!(e.span(), Some(Span::new(6, 7)));
    }
}
