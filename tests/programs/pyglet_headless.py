"""A pyglet program run headless under Xvfb: window, OpenGL drawing, events, pixels read back.

    DISPLAY=:N python pyglet_headless.py             on CPython's _ctypes
    DISPLAY=:N python -m pyctypes run pyglet_headless.py    on pyctypes

Everything goes through pyglet's ctypes bindings: Xlib (window, event queue,
XEvent unions), GLX and OpenGL (Mesa's software renderer under Xvfb), FreeType
and fontconfig (the label's glyphs).  The program

1. opens a 320x240 window and checks the events the X server sends back
   (on_resize, on_show, on_expose) reach its Python handlers;
2. draws, through a batch, a red rectangle, a green circle, a blue triangle,
   a yellow line and a white text label on a dark background;
3. sends itself X events from Python -- a KeyPress built as an XEvent union and
   sent with XSendEvent, a pointer warp -- and checks that pyglet decodes them
   into on_key_press/on_text/on_mouse_motion; resizes the window and checks
   on_resize;
4. drives the sequence with the clock (schedule_interval, schedule_once) and
   checks the ticks arrive;
5. reads the back buffer with glReadPixels into a ctypes array, and through
   pyglet's buffer manager into an ImageData, and checks the colour of each
   shape, the background, and that the label made white pixels where it stands.

The last line printed is the result: `RESULT {json}` with "ok", each check,
and the `_ctypes` module the program ran on.  Exit status 0 when every check
passes, 1 otherwise, 2 on a timeout.  PYGLET_HEADLESS_SCREENSHOT=file.png saves
the frame that was checked.
"""

import ctypes
import json
import os
import sys
import time

import pyglet

pyglet.options["debug_gl"] = True          # every GL call checked with glGetError
pyglet.options["shadow_window"] = False

from pyglet import gl, shapes  # noqa: E402  (after the options)
from pyglet.libs.x11 import xlib  # noqa: E402
from pyglet.window import key  # noqa: E402

WIDTH, HEIGHT = 320, 240
RESIZED = (360, 260)
BACKGROUND = (20, 30, 40)
TIMEOUT = float(os.environ.get("PYGLET_HEADLESS_TIMEOUT", "30"))
SCREENSHOT = os.environ.get("PYGLET_HEADLESS_SCREENSHOT")     # a .png file to write, to look at

# The scene: the pixel to probe for each shape (window coordinates, origin bottom left).
RED, GREEN, BLUE, YELLOW = (230, 20, 20), (20, 220, 40), (30, 40, 230), (240, 230, 10)
PROBES = {
    "rectangle": ((40, 40), RED),
    "circle": ((160, 60), GREEN),
    "triangle": ((262, 50), BLUE),
    "line": ((160, 130), YELLOW),
    "background": ((300, 220), BACKGROUND),
}
LABEL_BOX = (20, 160, 300, 215)           # x0, y0, x1, y1 around the label


class Program:
    def __init__(self):
        self.checks = {}
        self.events = {}
        self.ticks = 0
        self.stage = "start"
        self.window = pyglet.window.Window(WIDTH, HEIGHT, caption="pyctypes headless",
                                           resizable=True, vsync=False)
        self.batch = pyglet.graphics.Batch()
        self.scene = [
            shapes.Rectangle(20, 20, 60, 50, color=RED, batch=self.batch),
            shapes.Circle(160, 60, 30, color=GREEN, batch=self.batch),
            shapes.Triangle(230, 30, 300, 30, 265, 90, color=BLUE, batch=self.batch),
            shapes.Line(20, 130, 300, 130, thickness=6, color=YELLOW, batch=self.batch),
            pyglet.text.Label("pyctypes", font_name="DejaVu Sans", font_size=28,
                              x=160, y=185, anchor_x="center", anchor_y="center",
                              color=(255, 255, 255, 255), batch=self.batch),
        ]
        self.window.push_handlers(self)
        self.pixels = None

    # -- window events ---------------------------------------------------
    def _seen(self, name, *args):
        self.events.setdefault(name, []).append(args)

    def on_resize(self, width, height):
        self._seen("on_resize", width, height)

    def on_show(self):
        self._seen("on_show")

    def on_expose(self):
        self._seen("on_expose")

    def on_key_press(self, symbol, modifiers):
        self._seen("on_key_press", symbol, modifiers)

    def on_text(self, text):
        self._seen("on_text", text)

    def on_mouse_motion(self, x, y, dx, dy):
        self._seen("on_mouse_motion", x, y)

    def on_draw(self):
        gl.glClearColor(*(c / 255 for c in BACKGROUND), 1.0)
        self.window.clear()
        self.batch.draw()
        if self.stage == "read":
            self.read_pixels()
            self.stage = "done"
            pyglet.clock.schedule_once(lambda dt: pyglet.app.exit(), 0)

    # -- clock events: the sequence ---------------------------------------
    def tick(self, dt):
        self.ticks += 1

    def send_key(self, dt):
        display, window = self.window._x_display, self.window._window
        event = xlib.XEvent()
        event.xkey.type = xlib.KeyPress
        event.xkey.display = display
        event.xkey.window = window
        event.xkey.root = xlib.XDefaultRootWindow(display)
        event.xkey.subwindow = 0
        event.xkey.time = xlib.CurrentTime
        event.xkey.x, event.xkey.y = 10, 10
        event.xkey.state = 0
        event.xkey.keycode = xlib.XKeysymToKeycode(display, xlib.XStringToKeysym(b"a"))
        event.xkey.same_screen = True
        sent = xlib.XSendEvent(display, window, True, xlib.KeyPressMask, ctypes.byref(event))
        self.checks["XSendEvent accepted"] = bool(sent)
        xlib.XWarpPointer(display, 0, window, 0, 0, 0, 0, 100, 90)
        xlib.XFlush(display)

    def resize(self, dt):
        self.window.set_size(*RESIZED)

    def start_reading(self, dt):
        self.stage = "read"

    def read_pixels(self):
        width, height = self.window.get_framebuffer_size()
        buffer = (gl.GLubyte * (width * height * 4))()
        gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
        gl.glReadPixels(0, 0, width, height, gl.GL_RGBA, gl.GL_UNSIGNED_BYTE, buffer)
        image = pyglet.image.get_buffer_manager().get_color_buffer().get_image_data()
        if SCREENSHOT:
            image.save(SCREENSHOT)
        self.pixels = (width, height, bytes(buffer), bytes(image.get_data("RGBA", width * 4)))


def _close(color, expected, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected))


def check(program):
    checks = program.checks
    events = program.events
    checks["on_show"] = "on_show" in events
    checks["on_expose"] = "on_expose" in events
    resizes = events.get("on_resize", [])
    checks["on_resize (initial)"] = bool(resizes) and resizes[0] == (WIDTH, HEIGHT)
    checks["on_resize (set_size)"] = RESIZED in resizes
    checks["on_key_press"] = (key.A, 0) in events.get("on_key_press", [])
    checks["on_text"] = ("a",) in events.get("on_text", [])
    # Warped to (100, 90) from the top left while the window was HEIGHT high.
    checks["on_mouse_motion"] = (100, HEIGHT - 1 - 90) in events.get("on_mouse_motion", [])
    checks["clock ticks"] = program.ticks >= 5
    if program.pixels is None:
        checks["pixels read"] = False
        return {}
    width, height, raw, image = program.pixels
    checks["framebuffer size"] = (width, height) == RESIZED
    checks["glReadPixels == ImageData"] = raw == image

    def pixel(x, y):
        i = (y * width + x) * 4
        return tuple(raw[i:i + 3])

    seen = {}
    for name, ((x, y), expected) in PROBES.items():
        seen[name] = pixel(x, y)
        checks[f"pixel {name}"] = _close(seen[name], expected)
    x0, y0, x1, y1 = LABEL_BOX
    white = sum(1 for y in range(y0, y1) for x in range(x0, x1)
                if min(pixel(x, y)) > 200)
    background = sum(1 for y in range(y0, y1) for x in range(x0, x1)
                     if _close(pixel(x, y), BACKGROUND))
    seen["label white pixels"] = white
    checks["label drawn"] = white > 300 and background > white
    # Nothing white outside the label box: the glyphs are where the label is.
    stray = sum(1 for y in range(height) for x in range(0, width, 2)
                if not (x0 <= x < x1 and y0 <= y < y1) and min(pixel(x, y)) > 200)
    checks["label only in its box"] = stray == 0
    return seen


def main():
    started = time.monotonic()
    program = Program()
    clock = pyglet.clock
    clock.schedule_interval(program.tick, 1 / 50)
    clock.schedule_once(program.send_key, 0.2)
    clock.schedule_once(program.resize, 0.4)
    clock.schedule_once(program.start_reading, 0.8)
    timed_out = []
    clock.schedule_once(lambda dt: (timed_out.append(True), pyglet.app.exit()), TIMEOUT)
    pyglet.app.run(1 / 50)
    seen = check(program)
    program.checks["finished in time"] = not timed_out
    renderer = gl.gl_info.get_renderer()
    program.window.close()
    ok = all(program.checks.values()) and not timed_out
    passed = sum(program.checks.values())
    import _ctypes
    result = {"ok": ok, "passed": passed, "checks": len(program.checks), "results": program.checks,
              "failed": sorted(k for k, v in program.checks.items() if not v),
              "timed_out": bool(timed_out), "renderer": renderer, "probes": seen,
              "ctypes_module": _ctypes.__name__, "pyglet": pyglet.version,
              "seconds": round(time.monotonic() - started, 2)}
    print(f"pyglet headless: {passed}/{len(program.checks)} checks passed "
          f"({renderer}; {_ctypes.__name__})")
    print("RESULT " + json.dumps(result), flush=True)
    return 2 if timed_out else 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
