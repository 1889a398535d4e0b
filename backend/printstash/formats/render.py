"""A model's thumbnail, drawn on the CPU (there is no GPU on a vault's server): an isometric
view from the front right and above, flat shaded, as a PNG with a transparent background.

A z-buffer rasteriser in numpy: triangles are grouped by the size of their pixel bounding
box, and every group tests all the pixel centres of its boxes at once (a model of 400k
triangles has mostly one- or two-pixel triangles; a cube has twelve big ones). Drawn at twice
the size and scaled down, which smooths the edges.
"""

import io

import numpy as np
from PIL import Image

SIZE = 300  # pixels, square; slicers' own thumbnails are 200-400
SUPERSAMPLE = 2
MARGIN = 0.06  # of the image, on each side
COLOUR = np.array([237.0, 107.0, 33.0])  # the orange slicers show models in
AMBIENT = 0.35
FRAGMENTS_PER_BATCH = 1 << 20  # candidate pixels tested at once: bounds the memory a batch takes

_TOWARDS_VIEWER = np.array([1.0, -1.0, 1.0]) / np.sqrt(3)  # isometric: front right, above
_RIGHT = np.array([1.0, 1.0, 0.0]) / np.sqrt(2)
_UP = np.array([-1.0, 1.0, 2.0]) / np.sqrt(6)
_LIGHT = _TOWARDS_VIEWER + 0.6 * _UP - 0.3 * _RIGHT
_LIGHT /= np.linalg.norm(_LIGHT)


def isometric_png(triangles: np.ndarray, size: int = SIZE) -> bytes:
    """PNG of `triangles` ((n, 3, 3) corner coordinates) seen isometrically."""
    side = size * SUPERSAMPLE
    screen, shade = _project(np.asarray(triangles, dtype=np.float32), side)
    corner = np.floor(screen[..., :2].min(axis=1)).astype(np.int32)  # each box's top left pixel
    depth = np.full(side * side, -np.inf, dtype=np.float32)
    light = np.zeros(side * side, dtype=np.float32)
    for k, batch in _batches(screen, corner):
        _draw(screen[batch], corner[batch], shade[batch], k, side, depth, light)
    return _png(depth, light, side, size)


def _project(triangles: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel x, y (down) and depth (towards the viewer) of every corner, and each triangle's
    brightness (both faces lit alike: a mesh's winding is not always consistent)."""
    axes = np.stack([_RIGHT, -_UP, _TOWARDS_VIEWER], axis=1).astype(np.float32)
    view = triangles @ axes
    flat = view[..., :2].reshape(-1, 2)
    low, high = flat.min(axis=0), flat.max(axis=0)
    scale = side * (1 - 2 * MARGIN) / float(max((high - low).max(), 1e-9))
    view[..., :2] = (view[..., :2] - low) * scale + (side - (high - low) * scale) / 2
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1)
    facing = np.abs(normals @ _LIGHT.astype(np.float32)) / np.where(lengths > 0, lengths, 1)
    return view, (AMBIENT + (1 - AMBIENT) * facing).astype(np.float32)


def _batches(screen: np.ndarray, corner: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Triangle indexes grouped by the power-of-two square that holds every pixel centre of their
    box, each group split so that a batch tests at most FRAGMENTS_PER_BATCH pixels."""
    extent = (np.floor(screen[..., :2].max(axis=1)) - corner).max(axis=1) + 1
    box = 2 ** np.ceil(np.log2(np.maximum(extent, 1))).astype(np.int64)
    batches = []
    for k in np.unique(box).tolist():
        members = np.flatnonzero(box == k)
        per_batch = max(1, FRAGMENTS_PER_BATCH // (k * k))
        batches += [(k, members[i:i + per_batch]) for i in range(0, len(members), per_batch)]
    return batches


def _draw(tri: np.ndarray, corner: np.ndarray, shade: np.ndarray, k: int, side: int, depth: np.ndarray,
          light: np.ndarray) -> None:
    """Rasterise triangles whose boxes fit in a k x k pixel square into the buffers: every
    candidate pixel centre is tested against the triangle's edges at once."""
    x, y, z = tri[..., 0], tri[..., 1], tri[..., 2]
    dx, dy = np.arange(k * k, dtype=np.int32) % k, np.arange(k * k, dtype=np.int32) // k
    px, py = corner[:, 0, None] + dx, corner[:, 1, None] + dy  # candidate pixels, one row per triangle
    cx, cy = px.astype(np.float32) + 0.5, py.astype(np.float32) + 0.5
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
    area = np.where(np.abs(area) > 1e-9, area, np.nan)[:, None]  # edge-on triangles cover nothing
    w0 = ((x[:, 1, None] - cx) * (y[:, 2, None] - cy) - (x[:, 2, None] - cx) * (y[:, 1, None] - cy)) / area
    w1 = ((x[:, 2, None] - cx) * (y[:, 0, None] - cy) - (x[:, 0, None] - cx) * (y[:, 2, None] - cy)) / area
    w2 = 1 - w0 - w1
    inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0) & (px >= 0) & (px < side) & (py >= 0) & (py < side)
    rows, cols = np.nonzero(inside)
    if not len(rows):
        return
    fz = (w0 * z[:, 0, None] + w1 * z[:, 1, None] + w2 * z[:, 2, None])[rows, cols]
    _keep_nearest((py * side + px)[rows, cols], fz, shade[rows], depth, light)


def _keep_nearest(pixel: np.ndarray, z: np.ndarray, shade: np.ndarray, depth: np.ndarray,
                  light: np.ndarray) -> None:
    """The z-buffer test: per pixel, the nearest of these fragments, if nearer than what is there."""
    order = np.lexsort((z, pixel))  # by pixel, then depth: the last of each pixel is the nearest
    pixel, z, shade = pixel[order], z[order], shade[order]
    last = np.append(pixel[1:] != pixel[:-1], True)
    pixel, z, shade = pixel[last], z[last], shade[last]
    nearer = z > depth[pixel]
    depth[pixel[nearer]] = z[nearer]
    light[pixel[nearer]] = shade[nearer]


def _png(depth: np.ndarray, light: np.ndarray, side: int, size: int) -> bytes:
    covered = np.isfinite(depth)
    rgba = np.zeros((side * side, 4), dtype=np.uint8)
    rgba[covered, :3] = np.clip(light[covered, None] * COLOUR, 0, 255).astype(np.uint8)
    rgba[covered, 3] = 255
    image = Image.fromarray(rgba.reshape(side, side, 4), "RGBA").resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
