"""The tutorial's code as one plain Python script (no notebooks, no run folder logic), for bench/series.py.

    python bench/tutorial_script.py DATA OUT --arch efficientnet_lite0 --size 128 --item-size 160 --bs 32 \
        --epochs-head 1 --num-it 20 --epochs-finetune 1 [--lr-lo 6e-5 --lr-hi 2e-4] [--lr-head 3e-3]
"""
import argparse, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore')
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt
from fastai.vision.all import *

ap = argparse.ArgumentParser()
ap.add_argument('data'); ap.add_argument('out')
ap.add_argument('--arch', default='efficientnet_lite0'); ap.add_argument('--size', type=int, default=224)
ap.add_argument('--item-size', type=int, default=460); ap.add_argument('--bs', type=int, default=64)
ap.add_argument('--epochs-head', type=int, default=4); ap.add_argument('--num-it', type=int, default=100)
ap.add_argument('--epochs-finetune', type=int, default=4)
ap.add_argument('--lr-lo', type=float, default=None, help='the seed: 6e-5; default: valley / 10')
ap.add_argument('--lr-hi', type=float, default=None, help='the seed: 2e-4; default: the valley')
ap.add_argument('--lr-head', type=float, default=None, help="peak learning rate of the head's cycle; default: fastai's (1e-3), the seed's")
ap.add_argument('--probe-epochs', type=int, default=0, help="epochs of the head on features computed once, before --epochs-head (0: the seed)")
ap.add_argument('--linear-head', type=int, default=0, help="1: the runner's one-layer head (linear_probe_head)")
ap.add_argument('--freeze-bn', type=int, default=0, help="1: the body's batch norm keeps ImageNet's statistics")
ap.add_argument('--seed', type=int, default=None, help='set_seed before the learner is made (default: none, as in the seed)')
a = ap.parse_args()
t0 = time.time()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)

pets = DataBlock(blocks=(ImageBlock, CategoryBlock), get_items=get_image_files, splitter=RandomSplitter(0.2, seed=100),
                 get_y=using_attr(RegexLabeller(r'^(.*)_\d+\..*$'), 'name'),
                 item_tfms=Resize(a.item_size), batch_tfms=aug_transforms(size=a.size, min_scale=0.75))
dls = pets.dataloaders(a.data, bs=a.bs)
dls.show_batch(max_n=4); plt.savefig(out/'show_batch.png'); plt.close('all')
from petclassifier.learner import lite0_weights, FrozenBNStats, fit_head_on_features, linear_probe_head
if a.seed is not None: set_seed(a.seed)
extra = {}
if a.freeze_bn: extra.update(train_bn=False, cbs=FrozenBNStats())
if a.arch == 'efficientnet_lite0':  # the offline ImageNet weights (no download here)
    learn = vision_learner(dls, 'tf_efficientnet_lite0', metrics=error_rate, path=out,
                           pretrained_cfg_overlay=dict(file=str(lite0_weights())), **extra)
else:
    learn = vision_learner(dls, resnet34, metrics=error_rate, path=out, **extra)
if a.linear_head: learn.model[1] = linear_probe_head(learn.model[1])  # the same head as the runner's, not fastai's lin_ftrs=[]
if a.probe_epochs: fit_head_on_features(learn, a.probe_epochs)
learn.fit_one_cycle(a.epochs_head, lr_max=a.lr_head)
learn.save('stage1')
learn.unfreeze()
if a.lr_hi:  # the range is given: the curve is drawn, no suggestion asked for (a short curve may have none)
    learn.lr_find(num_it=a.num_it, suggest_funcs=None); learn.recorder.plot_lr_find()
else: sugg = learn.lr_find(num_it=a.num_it)
plt.savefig(out/'lr_find.png'); plt.close('all')
learn.load('stage1')
learn.unfreeze()
hi = a.lr_hi or sugg.valley
learn.fit_one_cycle(a.epochs_finetune, lr_max=slice(a.lr_lo or hi / 10, hi))
final_error = float(learn.recorder.values[-1][2])
learn.save('perfecto')
learn.recorder.plot_loss(); plt.savefig(out/'loss.png'); plt.close('all')
interp = ClassificationInterpretation.from_learner(learn)
interp.plot_confusion_matrix(figsize=(12, 12), dpi=60); plt.savefig(out/'confusion_matrix.png'); plt.close('all')
print(interp.most_confused(min_val=3))
interp.plot_top_losses(9, nrows=3); plt.savefig(out/'top_losses.png'); plt.close('all')
learn.export(out/'export.pkl')
print(f"final_error_rate={final_error:.4f}")
print(f"script_seconds={time.time() - t0:.1f}")
