"""Regenerates the images of docs/training.md: QT_QPA_PLATFORM=offscreen python docs/training-img/make_images.py"""
import argparse, datetime as dt, json, os
from pathlib import Path
from PyQt5 import QtWidgets, QtCore
app = QtWidgets.QApplication([])
from tpforce.cli.train import open_drill
from tpforce.train.drill import drill_from_dict
from tpforce.ui.practice import PracticeWindow
from tpforce.ui.sound import SoundPlayer
out = Path("docs/training-img")
drill = drill_from_dict({"title": "Hold 20 N within +-10 %", "target_n": 20, "band_pct": 10, "hold_s": 8, "rest_s": 3, "trials": 2,
   "feedback": {"schedule": "faded", "start_share": 1.0, "end_share": 0.0}, "retention": {"trials": 0}}, "hold-20n", "x")
args = argparse.Namespace(port="sim", hand="trained", partner_ppt=25.0, seed=2, surface="pad")
run, pipe = open_drill(args, drill, ("practice",), 2.0)
win = PracticeWindow(run, SoundPlayer(folder=Path("/tmp/trsnd"), enable_audio=False))
win.resize(800, 900); win.show()
shots = {"live": False, "result": False}
def tick():
    d = run.display
    if not shots["live"] and d.phase == "go" and d.visible and d.t_s > d.slot.go_s + 8:
        win.grab().save(str(Path("docs/img") / "practice-concurrent.png")); shots["live"] = True
    if not shots["result"] and d.phase == "done" and d.result is not None:
        QtCore.QTimer.singleShot(300, lambda: win.grab().save(str(Path("docs/img") / "practice-blind-result.png")))
        shots["result"] = True
    if shots["result"] and shots["live"]:
        QtCore.QTimer.singleShot(800, app.quit)
t = QtCore.QTimer(); t.timeout.connect(tick); t.start(50)
app.exec_(); pipe.close()
from tpforce.history.trainees import progress_svg, progress, record_session
from tpforce.cli.train import run_headless
db = "/tmp/train-shots.sqlite"
if os.path.exists(db): os.remove(db)
d = drill_from_dict({"target_n": 20, "band_pct": 10, "hold_s": 12, "rest_s": 2, "trials": 3,
    "feedback": {"schedule": "faded", "start_share": 1.0, "end_share": 0.3}, "retention": {"trials": 3}}, "hold-20n", "x")
for i, lvl in enumerate(["novice", "novice", "trained", "expert"]):
    a = argparse.Namespace(port="sim", hand=lvl, partner_ppt=25.0, seed=i, speed=20.0, surface="pad")
    o = run_headless(a, d, ("practice", "retention"))
    record_session(db, "tr-01", o, d, dt.date(2026, 3, 2) + dt.timedelta(days=7 * i))
rows = progress(db, "tr-01")
for r in rows: print(r["run_on"], r["block"], r["time_in_band_pct"], r["rmse_n"])
svg = progress_svg(rows, "tr-01")
(out / "progress.svg").write_text(svg)
from PyQt5 import QtSvg, QtGui
r = QtSvg.QSvgRenderer(QtCore.QByteArray(svg.encode()))
img = QtGui.QImage(r.defaultSize(), QtGui.QImage.Format_ARGB32); img.fill(0xffffffff)
pa = QtGui.QPainter(img); r.render(pa); pa.end(); img.save("/tmp/progress.png")
print(shots)
