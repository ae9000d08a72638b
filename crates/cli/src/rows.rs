//! `kyc batch`'s input: rows read one line at a time, so that a malformed line is that line's
//! error and never swallows the lines after it.

use serde::Deserialize;

/// One user to apply for, as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Row {
    pub(crate) user_id: String,
    pub(crate) call_back_url: String,
    pub(crate) username_furigana: String,
}

/// The rows that parsed, and why the others did not, each with its line number (from 1).
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub(crate) rows: Vec<(usize, Row)>,
    /// Line number and the rule broken, never the line's content (it is personal data).
    pub(crate) malformed: Vec<(usize, String)>,
}

/// The columns a CSV header must name.
const COLUMNS: [&str; 3] = ["userId", "callBackUrl", "usernameFurigana"];

/// The lines of `input` with their numbers, without line ends, blank lines left out.
fn lines(input: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    input
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
}

/// A CSV file: a header row naming [`COLUMNS`] (in any order), then one row per line. A
/// quoted field may hold commas and doubled quotes, not line breaks: a line whose quotes do
/// not pair up is an unterminated quote.
///
/// # Errors
///
/// When the header is missing, malformed or lacks a column: no row can be read then.
pub(crate) fn csv(input: &[u8]) -> anyhow::Result<Parsed> {
    let mut lines = lines(input);
    let Some((number, header)) = lines.next() else {
        anyhow::bail!(
            "the file is empty (it needs a header row: {})",
            COLUMNS.join(",")
        );
    };
    let header = fields(header).map_err(|why| anyhow::anyhow!("header, line {number}: {why}"))?;
    let mut at = [0usize; 3];
    for (slot, name) in at.iter_mut().zip(COLUMNS) {
        *slot = header
            .iter()
            .position(|field| field == name)
            .ok_or_else(|| anyhow::anyhow!("the header row has no {name} column"))?;
    }
    let mut parsed = Parsed::default();
    for (number, line) in lines {
        match fields(line) {
            Ok(fields) if fields.len() != header.len() => parsed.malformed.push((
                number,
                format!(
                    "{} columns, the header has {} (a missing or extra column)",
                    fields.len(),
                    header.len()
                ),
            )),
            Ok(mut fields) => {
                let mut take = |index: usize| std::mem::take(&mut fields[index]);
                let row = Row {
                    user_id: take(at[0]),
                    call_back_url: take(at[1]),
                    username_furigana: take(at[2]),
                };
                parsed.rows.push((number, row));
            }
            Err(why) => parsed.malformed.push((number, why)),
        }
    }
    Ok(parsed)
}

/// One CSV line's fields, or the rule it breaks.
fn fields(line: &[u8]) -> Result<Vec<String>, String> {
    if line.iter().filter(|b| **b == b'"').count() % 2 == 1 {
        return Err("an unterminated quote".to_owned());
    }
    let Ok(line) = std::str::from_utf8(line) else {
        return Err("bytes that are not UTF-8".to_owned());
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => Ok(record.iter().map(str::to_owned).collect()),
        Some(Err(err)) => Err(format!("not CSV ({})", csv_rule(&err))),
        None => Ok(Vec::new()),
    }
}

/// What a CSV error says, without the data.
fn csv_rule(err: &csv::Error) -> &'static str {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => "bytes that are not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "a missing or extra column",
        _ => "malformed",
    }
}

/// A JSON-lines file: one object per line with exactly userId, callBackUrl and
/// usernameFurigana.
///
/// # Errors
///
/// Never for a bad line (that is the line's error); the `Result` matches [`csv()`].
pub(crate) fn jsonl(input: &[u8]) -> anyhow::Result<Parsed> {
    let mut parsed = Parsed::default();
    for (number, line) in lines(input) {
        if std::str::from_utf8(line).is_err() {
            parsed
                .malformed
                .push((number, "bytes that are not UTF-8".to_owned()));
            continue;
        }
        match serde_json::from_slice::<Row>(line) {
            Ok(row) => parsed.rows.push((number, row)),
            Err(err) => {
                // serde_json's message may quote the data: say which rule, not what.
                let why = match err.classify() {
                    serde_json::error::Category::Data => {
                        "not the three fields userId, callBackUrl, usernameFurigana as strings"
                    }
                    serde_json::error::Category::Eof => "a JSON object cut short",
                    _ => "not a JSON object",
                };
                parsed.malformed.push((number, why.to_owned()));
            }
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_malformed_line_is_its_own_error_and_later_lines_proceed() {
        let input = b"userId,callBackUrl,usernameFurigana\r\n\
            u1,http://x/cb,a\n\
            u2,http://x/cb\n\
            u3,http://x/cb,a,extra\n\
            \"u4,http://x/cb,a\n\
            u5,http://x/cb,\xff\n\
            \n\
            \"u6\",\"http://x/cb\",\"a, \"\"b\"\"\"\n\
            u7,http://x/cb,a\n";
        let parsed = csv(input).unwrap();
        let users: Vec<_> = parsed
            .rows
            .iter()
            .map(|(line, row)| (*line, row.user_id.as_str()))
            .collect();
        assert_eq!(users, [(2, "u1"), (8, "u6"), (9, "u7")]);
        assert_eq!(parsed.rows[1].1.username_furigana, "a, \"b\"");
        let lines: Vec<_> = parsed.malformed.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(parsed.malformed[2].1.contains("unterminated quote"));
        assert!(parsed.malformed[3].1.contains("UTF-8"));
        // The reasons name rules, never the data.
        assert!(
            parsed
                .malformed
                .iter()
                .all(|(_, why)| !why.contains("http") && !why.contains("u4"))
        );
    }

    #[test]
    fn the_header_names_the_columns_in_any_order() {
        let parsed = csv(b"usernameFurigana,userId,callBackUrl\na,u1,http://x/cb\n").unwrap();
        assert_eq!(parsed.rows[0].1.user_id, "u1");
        assert!(csv(b"userId,callBackUrl\n").is_err());
        assert!(csv(b"").is_err());
    }

    #[test]
    fn json_lines_errors_name_the_rule_not_the_data() {
        let input = b"{\"userId\":\"u1\",\"callBackUrl\":\"c\",\"usernameFurigana\":\"a\"}\n\
            {\"userId\":\"secret-name\"}\n\
            {\"userId\":\n\
            \xff\n";
        let parsed = jsonl(input).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        let lines: Vec<_> = parsed.malformed.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(
            parsed
                .malformed
                .iter()
                .all(|(_, why)| !why.contains("secret"))
        );
    }
}
