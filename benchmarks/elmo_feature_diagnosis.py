"""Why are the embedded ELMo's features weak? Layers, pooling and feature scaling, pretrained vs random.

    SKTRANSFER_DATA=../shared/data python benchmarks/elmo_feature_diagnosis.py

500 balanced IMDB training reviews, 1,000 test reviews; the per-layer mean and max pools are
computed once (layers="all", pooling="mean_max") and every view is scored with
LogisticRegression, raw (C=1) and standardised (C=0.1).
"""
import numpy as np, time
from sklearn.linear_model import LogisticRegressionCV, LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.pipeline import make_pipeline
from sktransfer import ELMoVectorizer
from sktransfer.datasets import fetch_imdb
Xtr, ytr = fetch_imdb("train", n_samples=500, random_state=0, return_X_y=True)
Xte, yte = fetch_imdb("test", n_samples=1000, random_state=0, return_X_y=True)
t=time.time()
res = {}
for name, kw in [("pre", {}), ("rand", {"pretrained": False, "random_state": 0})]:
    v = ELMoVectorizer(layers="all", pooling="mean_max", max_tokens=512, **kw).fit(Xtr)
    A, B = v.transform(Xtr), v.transform(Xte)
    D = 256
    # columns: mean [l0 l1 l2] then max [l0 l1 l2]
    views = {"mean_l0": slice(0, D), "mean_l1": slice(D, 2*D), "mean_l2": slice(2*D, 3*D), "mean_all": slice(0, 3*D),
             "max_all": slice(3*D, 6*D), "meanmax_all": slice(0, 6*D)}
    for vn, sl in views.items():
        for scaled in (False, True):
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.1)) if scaled else LogisticRegression(max_iter=3000, C=1.0)
            acc = clf.fit(A[:, sl], ytr).score(B[:, sl], yte)
            res[(name, vn, scaled)] = acc
            print(name, vn, "scaled" if scaled else "raw", round(acc, 3), flush=True)
    avg = (A[:, :D] + A[:, D:2*D] + A[:, 2*D:3*D]) / 3, (B[:, :D] + B[:, D:2*D] + B[:, 2*D:3*D]) / 3
    for scaled in (False, True):
        clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=0.1)) if scaled else LogisticRegression(max_iter=3000, C=1.0)
        print(name, "mean_average", "scaled" if scaled else "raw", round(clf.fit(avg[0], ytr).score(avg[1], yte), 3), flush=True)
print("feature scale (pre, mean l2):", float(np.abs(A[:, 2*256:3*256]).mean()), time.time()-t)
