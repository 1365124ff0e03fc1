"""The seed-consistency Gradio Space: `spaces_app.app.build_demo()` builds the page, `launch()` serves it."""
