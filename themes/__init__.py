"""The colour themes shipped with warroom, installed as the package data `warroom.themes`.

This folder is the one copy of the shipped themes: pyproject.toml maps it into the package
(`package-dir`), and `warroom.tui.theme_files` reads it with `importlib.resources`, the same in
a source checkout, an editable install and a wheel. This file only makes the folder a regular
package, which editable installs need to find a package that lives outside `src/`.
"""
