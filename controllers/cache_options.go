package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// CacheOptions keep the manager's memory independent of what else is in the cluster: only the
// operator's own labelled Secrets are cached (a foreign Secret is read live, and only when its
// name is about to be used), and managedFields are dropped from every cached object.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Label: labels.SelectorFromSet(labels.Set{facev1.LabelManagedBy: facev1.ManagedByValue})},
		},
	}
}
