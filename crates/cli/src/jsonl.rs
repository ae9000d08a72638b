//! Append-only JSON-lines files that survive being killed mid-write.

use std::io;
use std::path::Path;

/// Opens (or creates) `path` for appending and returns the JSON values of its complete lines.
///
/// A last line without its newline was cut short by a crash or a kill mid-write: it is removed
/// (its work was never acknowledged, so it is redone), so that every line stays whole JSON.
///
/// # Errors
///
/// I/O errors, and `InvalidData` naming the first complete line that is not JSON.
pub(crate) async fn open_append(
    path: &Path,
) -> io::Result<(Vec<serde_json::Value>, tokio::fs::File)> {
    let existing = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(err) => return Err(err),
    };
    let complete = existing
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |at| at + 1);
    let mut values = Vec::new();
    for (index, line) in existing[..complete].split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let value = serde_json::from_slice(line).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line {} is not JSON: {err}", index + 1),
            )
        })?;
        values.push(value);
    }
    let file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .await?;
    if complete < existing.len() {
        file.set_len(complete as u64).await?;
    }
    Ok((values, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cut_last_line_is_dropped_and_whole_lines_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "{\"a\":1}\n\n{\"a\":2}\n{\"a\":").unwrap();
        let (values, _file) = open_append(&path).await.unwrap();
        assert_eq!(
            values,
            [serde_json::json!({"a": 1}), serde_json::json!({"a": 2})]
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n\n{\"a\":2}\n"
        );

        std::fs::write(&path, "not json\n").unwrap();
        let err = open_append(&path).await.unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
