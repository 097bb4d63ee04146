//! Borrowed RGB images (the decode stage's output) and the SIMD resize used by both models.
use fast_image_resize::{images::Image, FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::error::{InferError, Result};

/// A borrowed, tightly packed RGB8 image (`width * height * 3` bytes, row-major).
#[derive(Debug, Clone, Copy)]
pub struct RgbView<'a> {
    width: u32,
    height: u32,
    data: &'a [u8],
}

impl<'a> RgbView<'a> {
    pub fn new(width: u32, height: u32, data: &'a [u8]) -> Result<Self> {
        let needed = width as usize * height as usize * 3;
        if width == 0 || height == 0 || data.len() != needed {
            return Err(InferError::ImageSize {
                width,
                height,
                len: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Pixel at integer coordinates, clamped to the border (replicate padding).
    #[inline]
    pub(crate) fn pixel_clamped(&self, x: i64, y: i64) -> [u8; 3] {
        let x = x.clamp(0, self.width as i64 - 1) as usize;
        let y = y.clamp(0, self.height as i64 - 1) as usize;
        let i = (y * self.width as usize + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

impl<'a> From<&'a image::RgbImage> for RgbView<'a> {
    fn from(img: &'a image::RgbImage) -> Self {
        Self {
            width: img.width(),
            height: img.height(),
            data: img.as_raw(),
        }
    }
}

/// An owned RGB8 image produced inside this crate (resized inputs, warped plates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbBuf {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl RgbBuf {
    pub fn view(&self) -> RgbView<'_> {
        RgbView {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }
}

/// Bilinear resize with `fast_image_resize` (SIMD). `Interpolation` keeps a fixed 2x2 kernel like
/// OpenCV's `INTER_LINEAR`, which the models' reference pre-processing used.
pub fn resize_rgb(src: RgbView<'_>, width: u32, height: u32) -> Result<RgbBuf> {
    let err = |reason: String| InferError::Resize {
        from: (src.width, src.height),
        to: (width, height),
        reason,
    };
    if (width, height) == (src.width, src.height) {
        return Ok(RgbBuf {
            width,
            height,
            data: src.data.to_vec(),
        });
    }
    let src_img =
        fast_image_resize::images::ImageRef::new(src.width, src.height, src.data, PixelType::U8x3)
            .map_err(|e| err(e.to_string()))?;
    let mut dst = Image::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Interpolation(FilterType::Bilinear));
    Resizer::new()
        .resize(&src_img, &mut dst, &options)
        .map_err(|e| err(e.to_string()))?;
    Ok(RgbBuf {
        width,
        height,
        data: dst.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_rejects_wrong_buffer_length() {
        assert!(RgbView::new(2, 2, &[0; 12]).is_ok());
        assert!(matches!(
            RgbView::new(2, 2, &[0; 11]),
            Err(InferError::ImageSize { len: 11, .. })
        ));
        assert!(RgbView::new(0, 2, &[]).is_err());
    }

    #[test]
    fn resize_keeps_flat_colour_and_size() {
        let data: Vec<u8> = [10u8, 20, 30].repeat(40 * 30);
        let src = RgbView::new(40, 30, &data).unwrap();
        let out = resize_rgb(src, 17, 9).unwrap();
        assert_eq!((out.width, out.height, out.data.len()), (17, 9, 17 * 9 * 3));
        assert!(out.data.chunks(3).all(|p| p == [10, 20, 30]));
    }
}
