#!/usr/bin/env bash
# Installs the ingress-nginx controller on the kind cluster (kind provider manifest:
# hostPorts 80/443 on the ingress-ready node) and waits until it answers.
# Runs on the developer's machine, which has internet access; pin with
# INGRESS_NGINX_VERSION=controller-vX.Y.Z.
set -euo pipefail

version="${INGRESS_NGINX_VERSION:-controller-v1.12.1}"
context="${KUBE_CONTEXT:-kind-signet}"
manifest="https://raw.githubusercontent.com/kubernetes/ingress-nginx/${version}/deploy/static/provider/kind/deploy.yaml"

echo "ingress-nginx ${version} -> ${context}"
kubectl --context "${context}" apply -f "${manifest}"

# The admission webhook jobs must finish before Ingress objects are accepted.
kubectl --context "${context}" -n ingress-nginx wait --for=condition=complete job --all --timeout=180s || true
kubectl --context "${context}" -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout=300s
kubectl --context "${context}" -n ingress-nginx wait --for=condition=ready pod \
  --selector=app.kubernetes.io/component=controller --timeout=180s
echo "ingress-nginx is ready"
