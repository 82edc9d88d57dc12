"""What a reader of the lessons runs: per lesson, the `#| step` cells, how many hold a call of the tutorial, and how many
of their lines are the project's plumbing (recording into the run folder, seeding, restoring). Prints name=value lines.

    .venv/bin/python bench/lessons.py
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ['00_data', '01_fit_head', '02_lr_find', '03_discriminative_finetune', '04_interpret']
# the seed tutorial's fastai calls (and the project functions that stand for one of them: pet_dls for .dataloaders,
# pet_learner for vision_learner, find_data for untar_data)
TUTORIAL = ['untar_data', 'find_data(', 'DataBlock(', '.dataloaders(', 'pet_dls(', 'show_batch(', 'vision_learner(', 'cnn_learner(',
            'pet_learner(', '.fit_one_cycle(', '.unfreeze()', '.lr_find(', '.save(', '.load(', 'plot_loss(',
            'ClassificationInterpretation', 'plot_confusion_matrix(', 'most_confused(', 'plot_top_losses(', '.summary(']
PLUMBING = ['save_figure(', 'artefact(', 'update_metrics(', 'save_stage(', 'restore_learner(', 'stage_seed(', 'check_curve(',
            'keep_confusion_matrix(', 'save_lr(', 'save_data_record(', 'save_most_confused(', 'export_learner(',
            'load_lr_range(', 'load_dls(', 'Path(run_dir)', 'mkdir(', '.to_csv(', 'range_rule(', 'set_seed(',
            'save_breeds(', 'pick_lr_range(', 'record_stage(', 'record_final(', 'record_interpretation(']

def step_cells(nb:str) -> list:
    cells = json.loads((ROOT/'nbs'/f'{nb}.ipynb').read_text())['cells']
    srcs = [''.join(c['source']) for c in cells if c['cell_type'] == 'code']
    return [[l for l in s.splitlines() if l.strip() and not l.startswith('#|')] for s in srcs if '#| step' in s]

def main():
    totals = dict(steps=0, with_call=0, call_lines=0, plumbing_lines=0)
    for nb in LESSONS:
        cells = [c for c in step_cells(nb) if not all(l.startswith(('from ', 'import ')) or l == 'quiet_pet_errors()' for l in c)]
        with_call = sum(any(t in l for l in c for t in TUTORIAL) for c in cells)
        call_lines = sum(any(t in l for t in TUTORIAL) for c in cells for l in c)
        plumbing = sum(any(p in l for p in PLUMBING) for c in cells for l in c)
        worst = max((sum(any(p in l for p in PLUMBING) for l in c) for c in cells), default=0)
        print(f"{nb}.steps={len(cells)} {nb}.steps_with_tutorial_call={with_call} {nb}.tutorial_call_lines={call_lines} "
              f"{nb}.plumbing_lines={plumbing} {nb}.most_plumbing_in_one_step={worst}")
        for k, v in zip(totals, (len(cells), with_call, call_lines, plumbing)): totals[k] += v
    print(' '.join(f"total.{k}={v}" for k, v in totals.items()))

if __name__ == '__main__': main()
