// Package gitops proves the operator's health reporting in the GitOps tools' own terms.
//
// The Argo CD resource customizations in config/argocd/resource_customizations run in
// gopher-lua set up the way Argo CD sets up its VM (argocd_vm_test.go), against the test cases
// in Argo CD's own file formats (health_test.yaml, action_test.yaml). kstatus, which Flux and
// kstatus-based waiting use, is computed on real objects that the real operator wrote to a
// real API server, next to the Argo CD verdict for the same objects
// (kstatus_integration_test.go). The package has no code of its own beyond this comment: it is
// only its tests.
package gitops
