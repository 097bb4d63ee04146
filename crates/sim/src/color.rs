//! RGB (0..1) to BT.601 limited-range YCbCr, the colour space x264 assumes for I420 input.

pub fn rgb_to_yuv(rgb: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(|c| c.clamp(0.0, 1.0));
    [
        16.0 + 65.481 * r + 128.553 * g + 24.966 * b,
        128.0 - 37.797 * r - 74.203 * g + 112.0 * b,
        128.0 + 112.0 * r - 93.786 * g - 18.214 * b,
    ]
}

pub fn rgb_to_yuv8(rgb: [f32; 3]) -> [u8; 3] {
    rgb_to_yuv(rgb).map(|c| c.round().clamp(0.0, 255.0) as u8)
}

/// The inverse of `rgb_to_yuv8`, for tools that save rendered sprites as images.
#[cfg(test)]
pub fn yuv8_to_rgb8(yuv: [u8; 3]) -> [u8; 3] {
    let [y, u, v] = yuv.map(f32::from);
    let (y, u, v) = ((y - 16.0) * 1.164_383, u - 128.0, v - 128.0);
    [
        y + 1.596_027 * v,
        y - 0.391_762 * u - 0.812_968 * v,
        y + 2.017_232 * u,
    ]
    .map(|c| c.round().clamp(0.0, 255.0) as u8)
}

/// Per-camera light: a multiplier and, at dusk, a cool cast.
pub fn apply_light(rgb: [f32; 3], light: f32, dusk: bool) -> [f32; 3] {
    let tint = if dusk {
        [0.9, 0.95, 1.08]
    } else {
        [1.0, 1.0, 1.0]
    };
    [
        rgb[0] * light * tint[0],
        rgb[1] * light * tint[1],
        rgb[2] * light * tint[2],
    ]
}
