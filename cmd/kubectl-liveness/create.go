package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// createOptions are the flags of create: the common spec fields.
type createOptions struct {
	namePrefix, operationMode, deviceCorrelationID, modelVersion, tokenSecretName string
	account, clusterAccount, deletionPolicy                                       string
	referenceSecret, referenceConfigMap, referenceImage, confidenceThreshold      string
	ttl                                                                           time.Duration
	enableSessionImage, returnVerifyImageHash                                     bool
	labels                                                                        map[string]string
}

func (p *plugin) createCommand() *cobra.Command {
	o := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create [NAME]",
		Short: "Create a LivenessSession and print its name",
		Long: "Create a LivenessSession and print its name (generated from --name-prefix when NAME is not given).\n" +
			"Without --device-correlation-id the client SDK supplies the device id. For a verify session give\n" +
			"--reference-image FILE (stored in a Secret owned by the session), --reference-secret NAME/KEY or\n" +
			"--reference-configmap NAME/KEY.",
		Example: "  kubectl liveness create --operation-mode PassiveActive\n" +
			"  kubectl liveness create kyc-7 --reference-secret reference-face/face.png --confidence-threshold 0.8\n" +
			"  NAME=$(kubectl liveness create -n shop) && kubectl liveness wait -n shop \"$NAME\" --for=ready",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec, err := o.spec(args)
			if err != nil {
				return err
			}
			c, err := p.client()
			if err != nil {
				return err
			}
			name, err := c.Create(cmd.Context(), spec)
			if err != nil {
				return err
			}
			fmt.Fprintln(p.streams.Out, name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.namePrefix, "name-prefix", livenessclient.DefaultNamePrefix, "prefix of the generated name when NAME is not given")
	f.StringVar(&o.operationMode, "operation-mode", string(facev1.OperationModePassive), "Passive (mobile SDKs) or PassiveActive (web SDK)")
	f.StringVar(&o.deviceCorrelationID, "device-correlation-id", "", "the end user's device id (default: supplied by the client SDK)")
	f.DurationVar(&o.ttl, "ttl", 0, "auth token lifetime, 60s to 24h (default 600s)")
	f.BoolVar(&o.enableSessionImage, "enable-session-image", false, "keep the session image in Face (biometric data)")
	f.StringVar(&o.modelVersion, "model-version", "", "Face liveness model, e.g. 2024-11-15 (default: the latest)")
	f.StringVar(&o.tokenSecretName, "token-secret-name", "", "name of the token Secret (default: the session's name)")
	f.StringVar(&o.account, "account", "", "FaceAccount to use (default: the manager's default account)")
	f.StringVar(&o.clusterAccount, "cluster-account", "", "ClusterFaceAccount to use")
	f.StringVar(&o.deletionPolicy, "deletion-policy", "", "Delete (default) or Orphan the cloud session with the resource")
	f.StringVar(&o.referenceImage, "reference-image", "", "verify against this image file (PNG, JPEG, BMP or GIF)")
	f.StringVar(&o.referenceSecret, "reference-secret", "", "verify against key KEY of Secret NAME, as NAME/KEY")
	f.StringVar(&o.referenceConfigMap, "reference-configmap", "", "verify against binaryData key KEY of ConfigMap NAME, as NAME/KEY")
	f.StringVar(&o.confidenceThreshold, "confidence-threshold", "", "verify: match confidence from 0 to 1 at which faces are identical")
	f.BoolVar(&o.returnVerifyImageHash, "return-verify-image-hash", false, "verify: report the reference image's SHA-256 with attempts")
	f.StringToStringVarP(&o.labels, "labels", "l", nil, "labels for the session, key=value,...")
	return cmd
}

// spec turns the flags into a livenessclient.Spec; the API server checks ranges and enums.
func (o *createOptions) spec(args []string) (livenessclient.Spec, error) {
	s := livenessclient.Spec{
		NamePrefix:           o.namePrefix,
		Labels:               o.labels,
		OperationMode:        facev1.OperationMode(o.operationMode),
		DeviceCorrelationID:  o.deviceCorrelationID,
		AuthTokenTTL:         o.ttl,
		EnableSessionImage:   o.enableSessionImage,
		LivenessModelVersion: o.modelVersion,
		TokenSecretName:      o.tokenSecretName,
		DeletionPolicy:       facev1.DeletionPolicy(o.deletionPolicy),
	}
	if len(args) == 1 {
		s.Name = args[0]
	}
	switch {
	case o.account != "" && o.clusterAccount != "":
		return s, fmt.Errorf("give --account or --cluster-account, not both")
	case o.account != "":
		s.Account = &facev1.AccountReference{Kind: facev1.AccountKindFaceAccount, Name: o.account}
	case o.clusterAccount != "":
		s.Account = &facev1.AccountReference{Kind: facev1.AccountKindClusterFaceAccount, Name: o.clusterAccount}
	}
	v, err := o.verification()
	s.Verification = v
	return s, err
}

// verification is nil for a plain session.
func (o *createOptions) verification() (*livenessclient.Verification, error) {
	sources := 0
	for _, f := range []string{o.referenceImage, o.referenceSecret, o.referenceConfigMap} {
		if f != "" {
			sources++
		}
	}
	switch {
	case sources > 1:
		return nil, fmt.Errorf("give one of --reference-image, --reference-secret and --reference-configmap")
	case sources == 0 && (o.confidenceThreshold != "" || o.returnVerifyImageHash):
		return nil, fmt.Errorf("--confidence-threshold and --return-verify-image-hash need a reference image")
	case sources == 0:
		return nil, nil
	}
	v := &livenessclient.Verification{ConfidenceThreshold: o.confidenceThreshold, ReturnVerifyImageHash: o.returnVerifyImageHash}
	switch {
	case o.referenceImage != "":
		img, err := os.ReadFile(o.referenceImage)
		if err != nil {
			return nil, err
		}
		v.ReferenceImage = img
	case o.referenceSecret != "":
		ref, err := keyRef("--reference-secret", o.referenceSecret)
		if err != nil {
			return nil, err
		}
		v.Reference = &facev1.ReferenceImageSource{SecretKeyRef: ref}
	default:
		ref, err := keyRef("--reference-configmap", o.referenceConfigMap)
		if err != nil {
			return nil, err
		}
		v.Reference = &facev1.ReferenceImageSource{ConfigMapKeyRef: ref}
	}
	return v, nil
}

// keyRef parses NAME/KEY.
func keyRef(flag, v string) (*facev1.ImageKeyRef, error) {
	name, key, ok := strings.Cut(v, "/")
	if !ok || name == "" || key == "" {
		return nil, fmt.Errorf("%s must be NAME/KEY, got %q", flag, v)
	}
	return &facev1.ImageKeyRef{Name: name, Key: key}, nil
}
