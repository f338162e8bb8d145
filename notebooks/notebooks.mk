# govene's notebooks: `include notebooks/notebooks.mk` from the Makefile.
#
#   make notebooks-setup   JupyterLab 4 + nbconvert + GoNB v0.11.4 + goimports in
#                          .venv-lab (NOTEBOOKS_VENV), the gonb kernel spec in it
#   make notebooks-test    executes every notebook headlessly and checks its
#                          outputs, then runs two of them in JupyterLab in headless
#                          Chromium (screenshots in a temporary folder;
#                          SHOTS_DIR=notebooks/screenshots refreshes the committed ones)
#   make notebooks-save    executes the notebooks and saves them with their outputs
#   make notebooks-cell-times  each cell's time in a fresh GoNB kernel, two runs
#                          (NB=notebooks/01_patching.ipynb; a benchmark)
#   make lab               JupyterLab on 127.0.0.1 (LAB_PORT, default 8888) with a
#                          token printed, the notebooks folder open
#
# The scripts set GOEXPERIMENT=simd and drop the Makefile's GOFLAGS=-mod=mod
# for the Jupyter server and its kernels (Go refuses -mod=mod in the
# notebooks' go.work workspaces).

NOTEBOOKS_SCRIPTS := $(CURDIR)/scripts/notebooks

.PHONY: notebooks-setup notebooks-test notebooks-run notebooks-browser-test notebooks-save notebooks-cell-times lab

notebooks-setup:
	bash $(NOTEBOOKS_SCRIPTS)/setup.sh

notebooks-run: notebooks-setup
	bash $(NOTEBOOKS_SCRIPTS)/run.sh

notebooks-browser-test: notebooks-setup
	bash $(NOTEBOOKS_SCRIPTS)/browser_test.sh

notebooks-test: notebooks-setup
	bash $(NOTEBOOKS_SCRIPTS)/run.sh
	bash $(NOTEBOOKS_SCRIPTS)/browser_test.sh

notebooks-save: notebooks-setup
	bash $(NOTEBOOKS_SCRIPTS)/run.sh --save

NB ?= notebooks/01_patching.ipynb
notebooks-cell-times: notebooks-setup
	bash $(NOTEBOOKS_SCRIPTS)/cell_times.sh $(NB) --runs 2

lab:
	bash $(NOTEBOOKS_SCRIPTS)/lab.sh
