"""tt: the dialect, reference interpreter, importers and command-line tools of the tt compiler."""
