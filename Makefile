# liveness-operator: build, generate, test and demo. Every tool lands in bin/ on first use.

# Versions are pinned here and only here. The control-plane minor matches the k8s.io/* libraries
# that controller-runtime pulls in (go.mod).
KUBERNETES_VERSION ?= v1.37.2
ETCD_VERSION       ?= v3.6.16
CONTROLLER_TOOLS_VERSION ?= v0.23.0

BIN        := $(CURDIR)/bin
CONTROLLER_GEN := $(BIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
ASSETS_ROOT := $(BIN)/k8s
GO_TEST_FLAGS ?= -race -count=1
IMG ?= liveness-operator:dev

.PHONY: all
all: build

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate the CRD and RBAC manifests from markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: helm-sync
helm-sync: ## Copy the CRDs and RBAC rules from config/ into the Helm chart (charts/liveness-operator/files).
	hack/sync-chart.sh

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when committed CRDs, RBAC or deepcopy code are stale.
	@git diff --exit-code -- config/crd config/rbac api || { \
		echo "generated files are stale: run 'make manifests generate' and commit the result" >&2; exit 1; }

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## go vet, and gofmt must have nothing to say.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:" $$out >&2; exit 1; fi
	go vet ./...

##@ Build

.PHONY: build
build: ## Build bin/manager, bin/face-emulator, bin/example-app-server and bin/kubectl-liveness.
	go build -o $(BIN)/manager ./cmd/manager
	go build -o $(BIN)/face-emulator ./cmd/face-emulator
	go build -o $(BIN)/example-app-server ./cmd/example-app-server
	go build -o $(BIN)/kubectl-liveness ./cmd/kubectl-liveness

.PHONY: browser
browser: ## Install Debian's chromium for the browser tests (test/browser), when it is missing.
	@hack/install-chromium.sh

.PHONY: control-plane
control-plane: ## Build kube-apiserver and etcd from the Go module proxy into bin/k8s (first time: ~11 minutes).
	@hack/build-control-plane.sh $(KUBERNETES_VERSION) $(ETCD_VERSION) $(ASSETS_ROOT) >/dev/null

KUBEBUILDER_ASSETS = $(ASSETS_ROOT)/$(KUBERNETES_VERSION)-etcd-$(ETCD_VERSION)-$(shell go env GOOS)-$(shell go env GOARCH)

##@ Test

.PHONY: test
test: control-plane browser verify-generated vet build ## Everything CI runs: generated files current, vet, unit, integration and end-to-end tests.
	@echo "==> go test $(GO_TEST_FLAGS) ./... (control plane: $(KUBEBUILDER_ASSETS))"
	@KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) LIVENESS_BIN_DIR=$(BIN) hack/go-test.sh $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: control-plane build ## Load, crash-safety, memory and quota reports against TARGETS (reports/*.md; ~30 min; LIVENESS_PERF_SCALE=smoke for ~3 min).
	KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) go test -run '^$$' -bench . -benchtime 1x -timeout 90m ./test/perf/

.PHONY: chaos
chaos: control-plane build ## SIGTERM and SIGKILL loops and leader kills against bin/manager (reports/chaos-latest.md; ~35 min; LIVENESS_CHAOS_SCALE=smoke for ~1.5 min).
	KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) LIVENESS_BIN_DIR=$(BIN) LIVENESS_CHAOS_SCALE=$(or $(LIVENESS_CHAOS_SCALE),full) go test -run '^TestChaos$$' -count=1 -v -timeout 60m ./test/perf/

.PHONY: bench-emulator
bench-emulator: ## The emulator's own throughput (create+get+delete cycles per second).
	go test -run '^$$' -bench CreateGetDelete -benchtime 3s -cpu 2 ./internal/emulator/

##@ Run

.PHONY: demo
demo: control-plane build demo-tools ## The whole flow on a local control plane, the Face emulator and the operator.
	@KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) BIN=$(BIN) hack/demo.sh

.PHONY: demo-app
demo-app: control-plane build demo-tools ## The example app server's page on a local control plane, emulator and operator (until Ctrl-C).
	@KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) BIN=$(BIN) hack/demo-app.sh

##@ Release

# The release version (vMAJOR.MINOR.PATCH) and the registry path its images are published
# under; install.yaml and the chart name $(REGISTRY)/liveness-operator.
VERSION  ?= v0.1.0
REGISTRY ?= ghcr.io/liveness-operator

.PHONY: release
release: ## Build dist/ without Docker: OCI layouts of the manager and the Face emulator (linux/amd64+arm64), install.yaml, the packaged chart, SBOMs, SHA256SUMS.
	go run ./hack/release --version $(VERSION) --registry $(REGISTRY) --out dist

.PHONY: release-push
release-push: ## Push dist/'s image indexes to $(REGISTRY), the registry `make release` built them for (credentials: docker login or crane auth login).
	go run ./hack/release push --dist dist --registry $(REGISTRY)

.PHONY: release-test
release-test: control-plane ## The release twice from scratch (fails unless SHA256SUMS, so every digest, match), then test/release.
	rm -rf $(CURDIR)/tmp/release-a $(CURDIR)/tmp/release-b
	go run ./hack/release --version $(VERSION) --registry $(REGISTRY) --out $(CURDIR)/tmp/release-a
	go run ./hack/release --version $(VERSION) --registry $(REGISTRY) --out $(CURDIR)/tmp/release-b
	cmp $(CURDIR)/tmp/release-a/SHA256SUMS $(CURDIR)/tmp/release-b/SHA256SUMS
	KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS) go test -count=1 ./test/release/

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine; none runs on the dev machines).
	docker build -t $(IMG) .

$(CONTROLLER_GEN):
	@echo "==> installing controller-gen $(CONTROLLER_TOOLS_VERSION) into bin/"
	@mkdir -p $(BIN)
	@GOBIN=$(BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	@mv $(BIN)/controller-gen $(CONTROLLER_GEN)

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: demo-tools
demo-tools:
	go build -o $(BIN)/control-plane ./test/cmd/control-plane
