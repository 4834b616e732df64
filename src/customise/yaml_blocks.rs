//! Merging cloud-init's YAML files with what an image already ships,
//! without a YAML library: a cloud-config or netplan file is a mapping
//! whose top-level keys start at column 0, each followed by its indented
//! (or, for a list, `- `) lines. Imprint's keys replace the image's same
//! keys in place, list keys it appends to (`runcmd`) get its items added,
//! and every other key, comment and line of the image's stays as it was.
//! A file in another shape (flow style, several documents, anchors at the
//! top) is refused rather than guessed at.

/// One top-level entry: its key and its lines (the key's line first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    /// `None` for the comments and blank lines before the first key.
    pub key: Option<String>,
    pub lines: Vec<String>,
}

/// The top-level blocks of `text`; an error names the line that is not in
/// the block style this merge understands.
pub(crate) fn split(text: &str) -> Result<Vec<Block>, String> {
    let mut blocks = vec![Block {
        key: None,
        lines: Vec::new(),
    }];
    for (index, line) in text.lines().enumerate() {
        let continues = line.is_empty()
            || line.starts_with([' ', '\t', '#'])
            || line == "-"
            || line.starts_with("- ");
        if continues {
            if line.starts_with("- ") && blocks.len() == 1 {
                return Err(format!("line {}: a list at the top level", index + 1));
            }
            blocks
                .last_mut()
                .expect("one block at least")
                .lines
                .push(line.to_string());
            continue;
        }
        if index == 0 && line == "---" {
            blocks[0].lines.push(line.to_string());
            continue;
        }
        let key = top_level_key(line)
            .ok_or_else(|| format!("line {}: {line:?} is not a `key:` line", index + 1))?;
        if blocks.iter().any(|b| b.key.as_deref() == Some(key)) {
            return Err(format!("line {}: the key {key:?} appears twice", index + 1));
        }
        blocks.push(Block {
            key: Some(key.to_string()),
            lines: vec![line.to_string()],
        });
    }
    Ok(blocks)
}

/// `key` of a line `key:` or `key: value` at column 0.
fn top_level_key(line: &str) -> Option<&str> {
    let (key, rest) = line.split_once(':')?;
    let key_ok = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    let rest_ok = rest.is_empty() || rest.starts_with([' ', '\t']);
    let flow = rest.trim_start().starts_with(['&', '*', '!']);
    (key_ok && rest_ok && !flow).then_some(key)
}

/// `ours` merged into `image`: each of our blocks replaces the image's
/// block of the same key where it stands (or is appended), except keys in
/// `append_lists`, whose items follow the image's own.
pub(crate) fn merge(image: Vec<Block>, ours: Vec<Block>, append_lists: &[&str]) -> Vec<Block> {
    let mut merged = image;
    for block in ours {
        let key = block.key.clone();
        match merged.iter_mut().find(|b| b.key.is_some() && b.key == key) {
            Some(existing) if key.as_deref().is_some_and(|k| append_lists.contains(&k)) => {
                append_items(existing, &block);
            }
            Some(existing) => {
                // The blank lines that set the image's block apart stay.
                let blanks = trailing_blanks(existing);
                *existing = block;
                existing
                    .lines
                    .extend(std::iter::repeat_n(String::new(), blanks));
            }
            None => merged.push(block),
        }
    }
    merged
}

/// Our list's items after the image's, at the image's indentation.
fn append_items(existing: &mut Block, ours: &Block) {
    let indent = existing.lines[1..]
        .iter()
        .find_map(|l| {
            let trimmed = l.trim_start();
            trimmed.starts_with('-').then(|| l.len() - trimmed.len())
        })
        .unwrap_or(2);
    // Trailing blank lines stay after the items.
    let blanks = trailing_blanks(existing);
    let at = existing.lines.len() - blanks;
    let items = ours.lines[1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("{}{}", " ".repeat(indent), l.trim_start()));
    existing.lines.splice(at..at, items);
}

fn trailing_blanks(block: &Block) -> usize {
    block
        .lines
        .iter()
        .rev()
        .take_while(|l| l.trim().is_empty())
        .count()
}

/// The text of `blocks`, each line ending in a newline.
pub(crate) fn join(blocks: &[Block]) -> String {
    let mut out = String::new();
    for line in blocks.iter().flat_map(|b| &b.lines) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `text`'s block `key` with its body taken out one level (for a netplan
/// file wrapped in `network:`): the body's lines with its indentation
/// removed, and that indentation.
pub(crate) fn unwrap_body(block: &Block) -> Result<(String, usize), String> {
    let indent = block.lines[1..]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or(2, |l| l.len() - l.trim_start().len());
    let mut body = String::new();
    for line in &block.lines[1..] {
        let stripped = line
            .get(indent..)
            .filter(|_| line.starts_with(&" ".repeat(indent)));
        match stripped {
            Some(rest) => body.push_str(rest),
            None if line.trim().is_empty() || line.trim_start().starts_with('#') => {
                body.push_str(line.trim_start());
            }
            None => {
                return Err(format!(
                    "{line:?} is not indented like the rest of its block"
                ));
            }
        }
        body.push('\n');
    }
    Ok((body, indent))
}

/// `body` indented by `indent` under `key:`.
pub(crate) fn wrap_body(key: &str, body: &str, indent: usize) -> Block {
    let pad = " ".repeat(indent);
    let mut lines = vec![format!("{key}:")];
    lines.extend(body.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!("{pad}{l}")
        }
    }));
    Block {
        key: Some(key.to_string()),
        lines,
    }
}

#[cfg(test)]
#[path = "yaml_blocks_tests.rs"]
mod tests;
