{{/* The release's full name, the prefix of every object's name. */}}
{{- define "liveness-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels that select the manager's pods. */}}
{{- define "liveness-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end -}}

{{/* Labels of every object. */}}
{{- define "liveness-operator.labels" -}}
{{ include "liveness-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "liveness-operator.serviceAccountName" -}}
{{- default (include "liveness-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The namespaces that get the manager's Role under watchNamespaces: those and the release's. */}}
{{- define "liveness-operator.roleNamespaces" -}}
{{- toJson (append .Values.watchNamespaces .Release.Namespace | uniq) -}}
{{- end -}}

{{/*
The rules of the object of one kind in a file under files/ (copied from config/ by
hack/sync-chart.sh), as YAML. Argument: list root file kind.
*/}}
{{- define "liveness-operator.rulesOf" -}}
{{- $root := index . 0 -}}
{{- $file := index . 1 -}}
{{- $kind := index . 2 -}}
{{- $found := false -}}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" ($root.Files.Get $file) -1 -}}
{{- $obj := fromYaml $doc -}}
{{- if eq (get $obj "kind") $kind -}}
{{- $found = true -}}
{{- toYaml $obj.rules -}}
{{- end -}}
{{- end -}}
{{- if not $found -}}
{{- fail (printf "%s has no %s: run make helm-sync" $file $kind) -}}
{{- end -}}
{{- end -}}
