//! The symbols the recogniser reads: label `i` (1-based, 0 is the CTC blank) is symbol `i - 1`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alphabet {
    chars: Vec<char>,
}

impl Alphabet {
    pub fn new(chars: Vec<char>) -> Self {
        Self { chars }
    }

    /// One character per non-empty line; `None` if a line holds more than one.
    #[cfg(test)]
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut chars = Vec::new();
        for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
            let mut it = line.chars();
            let c = it.next()?;
            if it.next().is_some() {
                return None;
            }
            chars.push(c);
        }
        Some(Self { chars })
    }

    /// Number of characters (the model has one more class, the blank).
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The character of class `label` (1-based); `None` for the blank or out of range.
    pub fn char_of(&self, label: usize) -> Option<char> {
        label
            .checked_sub(1)
            .and_then(|i| self.chars.get(i))
            .copied()
    }

    /// The class of character `c`.
    pub fn label_of(&self, c: char) -> Option<usize> {
        self.chars.iter().position(|&x| x == c).map(|i| i + 1)
    }

    pub fn text(&self, labels: &[usize]) -> String {
        labels.iter().filter_map(|&l| self.char_of(l)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_based_and_blank_is_none() {
        let a = Alphabet::parse("0\n1\nA\n京\n").unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a.char_of(0), None);
        assert_eq!(a.char_of(1), Some('0'));
        assert_eq!(a.char_of(4), Some('京'));
        assert_eq!(a.label_of('A'), Some(3));
        assert_eq!(a.text(&[4, 3, 2]), "京A1");
        assert!(Alphabet::parse("AB\n").is_none());
    }
}
