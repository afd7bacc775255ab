"""The Textual war-room console. The only package that imports textual."""
