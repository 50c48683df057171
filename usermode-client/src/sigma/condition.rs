//! The `condition:` expression: `and`, `or`, `not`, parentheses, and the
//! quantifiers `1 of x*`, `all of x*`, `N of x*`, `... of them`.

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// A detection identifier.
    Ident(String),
    /// `N of pattern` (`all` is `None`); pattern `them` means every identifier.
    Of {
        count: Option<u32>,
        pattern: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    LParen,
    RParen,
    Word(String),
}

fn lex(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::LParen);
            }
            ')' => {
                chars.next();
                out.push(Token::RParen);
            }
            '|' => return Err("aggregation expressions ('|') are not supported (deprecated Sigma 1 syntax)".into()),
            c if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.') => {
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || matches!(d, '_' | '*' | '-' | '.') {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Word(s[i..end].to_owned()));
            }
            other => return Err(format!("unexpected character '{other}' in condition")),
        }
    }
    Ok(out)
}

/// Parses one condition string.
pub(crate) fn parse(s: &str) -> Result<Cond, String> {
    let toks = lex(s)?;
    let mut p = Parser { toks, pos: 0, depth: 0 };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected '{}' in condition", p.describe()));
    }
    Ok(c)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: u32,
}

const MAX_DEPTH: u32 = 128;

impl Parser {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn describe(&self) -> String {
        match self.toks.get(self.pos) {
            Some(Token::LParen) => "(".into(),
            Some(Token::RParen) => ")".into(),
            Some(Token::Word(w)) => w.clone(),
            None => "end of condition".into(),
        }
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut left = self.and()?;
        while self.peek_kw("or") {
            self.pos += 1;
            left = Cond::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut left = self.not()?;
        while self.peek_kw("and") {
            self.pos += 1;
            left = Cond::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Cond, String> {
        if self.peek_kw("not") {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err("condition nested too deeply".into());
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Token::LParen) => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err("condition nested too deeply".into());
                }
                let inner = self.or()?;
                self.depth -= 1;
                if self.toks.get(self.pos) != Some(&Token::RParen) {
                    return Err(format!("expected ')' but found '{}'", self.describe()));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Word(w)) => {
                self.pos += 1;
                let count = if w.eq_ignore_ascii_case("all") { Some(None) } else { w.parse::<u32>().ok().map(Some) };
                if let Some(count) = count {
                    if !self.peek_kw("of") {
                        return Err(format!("expected 'of' after '{w}'"));
                    }
                    self.pos += 1;
                    let Some(Token::Word(pattern)) = self.toks.get(self.pos).cloned() else {
                        return Err("expected an identifier pattern or 'them' after 'of'".into());
                    };
                    self.pos += 1;
                    if count == Some(0) {
                        return Err("'0 of' is not meaningful".into());
                    }
                    return Ok(Cond::Of { count, pattern });
                }
                if ["and", "or", "not", "of", "them"].iter().any(|k| w.eq_ignore_ascii_case(k)) {
                    return Err(format!("unexpected keyword '{w}'"));
                }
                Ok(Cond::Ident(w))
            }
            Some(Token::RParen) => Err("unexpected ')'".into()),
            None => Err("condition ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Box<Cond> {
        Box::new(Cond::Ident(s.into()))
    }

    #[test]
    fn precedence() {
        assert_eq!(
            parse("a or b and not c").unwrap(),
            Cond::Or(id("a"), Box::new(Cond::And(id("b"), Box::new(Cond::Not(id("c"))))))
        );
        assert_eq!(parse("(a or b) and c").unwrap(), Cond::And(Box::new(Cond::Or(id("a"), id("b"))), id("c")));
    }

    #[test]
    fn quantifiers() {
        assert_eq!(parse("1 of sel_*").unwrap(), Cond::Of { count: Some(1), pattern: "sel_*".into() });
        assert_eq!(parse("all of them").unwrap(), Cond::Of { count: None, pattern: "them".into() });
        assert!(parse("selection | count() > 5").is_err());
        assert!(parse("a and").is_err());
        assert!(parse("(a").is_err());
        assert!(parse("a b").is_err());
    }
}
