//! Single rendered frames of a scenario as packed RGB, for tests that read plates or vehicles from
//! simulated pictures without encoding and decoding a clip.
use crate::font::PlateFont;
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
