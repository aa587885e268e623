"""Photo safety beyond the caption (policy 3.4, 4.4, 8.2): what a photo itself gives away.

`picture` reads a photo within safe limits, `metadata` finds and strips location and camera
details, `faces` finds faces (boxes only: no face is ever identified or kept), `text` reads the
words in the picture, `marks` blurs chosen regions and draws the numbered preview, `analysis`
is what runs in the photo worker (`worker`), and `safety` checks what was read against the
register and audits each step. Pillow, OpenCV and the OCR models load in the worker on first
use, never when the bot starts.
"""
