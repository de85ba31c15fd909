"""The pipeline of `briefing build`: check the inputs, execute the section notebooks with papermill
(execute.py, in warm kernels: warm.py; skipped when cached: cache.py), convert them with nbconvert
(convert.py), and write the reader's pages: HTML (assemble.py) and the tagged PDF, printed with Typst
(pdf.py), both from render.py. build.py runs the steps and hands the edition to publishing/."""
