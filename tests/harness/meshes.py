"""Large meshes made on the spot (numpy), for what the small PrusaSlicer fixtures cannot show:
the model benchmark (bench/models) and the model viewer's browser test read the same torus."""

import numpy as np


def torus_stl(rings: int = 448, header: bytes = b"printstash torus") -> bytes:
    """A closed torus of rings x rings quads (2 triangles each) as a binary STL; 448 rings give
    401,408 triangles, 20.1 MB."""
    angles = np.linspace(0, 2 * np.pi, rings, endpoint=False)
    u, v = np.meshgrid(angles, angles)
    grid = np.stack([(40 + 15 * np.cos(v)) * np.cos(u), (40 + 15 * np.cos(v)) * np.sin(u), 15 + 15 * np.sin(v)], -1)
    a, b = grid, np.roll(grid, -1, axis=1)
    c, d = np.roll(grid, -1, axis=0), np.roll(np.roll(grid, -1, axis=0), -1, axis=1)
    tris = np.concatenate([np.stack([a, b, d], -2).reshape(-1, 3, 3), np.stack([a, d, c], -2).reshape(-1, 3, 3)])
    record = np.zeros(len(tris), dtype=[("normal", "<f4", 3), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    record["corners"] = tris
    return header.ljust(80, b" ") + np.uint32(len(tris)).tobytes() + record.tobytes()
