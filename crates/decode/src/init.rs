use std::sync::OnceLock;

use crate::DecodeError;

/// Elements the decode pipelines use, with the Debian package that ships each.
const REQUIRED: &[(&str, &str)] = &[
    ("appsrc", "gstreamer1.0-plugins-base"),
    ("appsink", "gstreamer1.0-plugins-base"),
    ("filesrc", "libgstreamer1.0-0 (core elements)"),
    ("parsebin", "gstreamer1.0-plugins-base"),
    ("decodebin", "gstreamer1.0-plugins-base"),
    ("videoscale", "gstreamer1.0-plugins-base"),
    ("videoconvert", "gstreamer1.0-plugins-base"),
    ("capsfilter", "libgstreamer1.0-0 (core elements)"),
    ("fakesink", "libgstreamer1.0-0 (core elements)"),
    ("h264parse", "gstreamer1.0-plugins-bad"),
    ("h265parse", "gstreamer1.0-plugins-bad"),
    ("avdec_h264", "gstreamer1.0-libav"),
    ("avdec_h265", "gstreamer1.0-libav"),
    ("qtdemux", "gstreamer1.0-plugins-good"),
    ("matroskademux", "gstreamer1.0-plugins-good"),
];

/// Initialises GStreamer once and checks that every element this crate uses is installed.
/// The result is cached: later calls are cheap and return the same outcome.
pub fn init() -> Result<(), DecodeError> {
    static RESULT: OnceLock<Result<(), DecodeError>> = OnceLock::new();
    RESULT
        .get_or_init(|| {
            gstreamer::init().map_err(|e| DecodeError::Init(e.to_string()))?;
            require_elements(REQUIRED)
        })
        .clone()
}

/// Fails on the first element of `required` that no installed plugin provides.
pub(crate) fn require_elements(
    required: &[(&'static str, &'static str)],
) -> Result<(), DecodeError> {
    for &(element, package) in required {
        if gstreamer::ElementFactory::find(element).is_none() {
            return Err(DecodeError::MissingElement { element, package });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_succeeds_on_a_set_up_machine() {
        init().unwrap();
        init().unwrap();
    }

    #[test]
    fn missing_element_is_named_with_its_package() {
        init().unwrap();
        let err = require_elements(&[
            ("videoconvert", "gstreamer1.0-plugins-base"),
            ("xl_no_such_decoder", "gstreamer1.0-imaginary"),
        ])
        .unwrap_err();
        assert!(matches!(
            err,
            DecodeError::MissingElement {
                element: "xl_no_such_decoder",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "GStreamer element `xl_no_such_decoder` is missing (install gstreamer1.0-imaginary)"
        );
    }
}
