//! The CSV of a user import, as Cognito reads it: one header row naming the columns (in any
//! order), then one user per line; values are not quoted, a comma inside a value is written
//! `\,`, and white space around a value is trimmed. UTF-8; a byte-order mark is ignored.

/// The values of one line.
pub fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                current.push(',');
                chars.next();
            }
            ',' => out.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    out.push(current.trim().to_owned());
    out
}

/// The header row, without a byte-order mark.
pub fn header(line: &str) -> Vec<String> {
    fields(line.trim_start_matches('\u{feff}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_on_unescaped_commas_and_are_trimmed() {
        assert_eq!(fields("a, b ,c\\, d,\r\n"), ["a", "b", "c, d", ""]);
        assert_eq!(header("\u{feff}email,cognito:username"), ["email", "cognito:username"]);
    }
}
