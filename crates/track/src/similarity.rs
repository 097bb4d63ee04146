/// 1 - normalised Levenshtein distance over characters; 1.0 for equal strings, 0.0 for disjoint.
pub fn text_similarity(a: &str, b: &str) -> f32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    1.0 - prev[b.len()] as f32 / longest as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_counts_character_edits() {
        assert_eq!(text_similarity("皖S12345", "皖S12345"), 1.0);
        assert!((text_similarity("皖S12345", "皖S12845") - 6.0 / 7.0).abs() < 1e-6);
        assert!((text_similarity("皖S12345", "皖S1234") - 6.0 / 7.0).abs() < 1e-6);
        assert_eq!(text_similarity("", ""), 1.0);
        assert_eq!(text_similarity("ab", "cd"), 0.0);
    }
}
