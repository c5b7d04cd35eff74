"""Geodesy layer: CRS transformers shared by grid planning and the warper."""
