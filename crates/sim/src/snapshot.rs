//! Single rendered frames of a scenario as packed RGB, for tests that read plates or vehicles from
//! simulated pictures without encoding and decoding a clip.
use crate::font::PlateFont;
use crate::frame::Frame;
use crate::scenario::Scenario;
use crate::scene_render::SceneRenderer;
use crate::SimError;

/// Renders the given frames of `scenario`, each as `width * height * 3` RGB bytes.
pub fn render_rgb_frames(scenario: &Scenario, frames: &[u32]) -> Result<Vec<Vec<u8>>, SimError> {
    let font = PlateFont::load()?;
    let renderer = SceneRenderer::new(scenario, &font);
    Ok(frames
        .iter()
        .map(|&f| renderer.render(f).to_rgb())
        .collect())
}

impl Frame {
    /// BT.601 limited-range I420 to packed RGB.
    pub fn to_rgb(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.width * self.height * 3);
        for y in 0..self.height {
            for x in 0..self.width {
                let yy = f32::from(self.data[y * self.y_stride + x]) - 16.0;
                let ci = (y / 2) * self.c_stride + x / 2;
                let u = f32::from(self.data[self.u_off + ci]) - 128.0;
                let v = f32::from(self.data[self.v_off + ci]) - 128.0;
                let r = 1.164 * yy + 1.596 * v;
                let g = 1.164 * yy - 0.392 * u - 0.813 * v;
                let b = 1.164 * yy + 2.017 * u;
                out.extend([r, g, b].map(|c| c.round().clamp(0.0, 255.0) as u8));
            }
        }
        out
    }
}
