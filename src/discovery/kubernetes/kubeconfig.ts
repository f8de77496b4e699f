// kubeconfig.ts finds the API server's credentials and this pod's namespace, the way kubectl and the Downward API do.
import { readFileSync } from 'node:fs';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * Loads credentials the way kubectl does, from values the caller read from the
 * environment: KUBECONFIG (a path list) when set, else the in-cluster service
 * account when KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
 */
export function loadKubeConfig(env: { KUBECONFIG?: string | undefined; KUBERNETES_SERVICE_HOST?: string | undefined }): KubeConfig {
  const kc = new KubeConfig();
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  const [first, ...rest] = files;
  if (first !== undefined) {
    kc.loadFromFile(first);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
  } else if (env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  return kc;
}

export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** POD_NAMESPACE (downward API) if set, else the service account's namespace file. */
export function podNamespace(
  env: { POD_NAMESPACE?: string | undefined },
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): string {
  const fromEnv = env.POD_NAMESPACE?.trim();
  if (fromEnv) return fromEnv;
  let fromFile = '';
  try {
    fromFile = readFile(SERVICE_ACCOUNT_NAMESPACE_FILE).trim();
  } catch (err) {
    throw new Error(`POD_NAMESPACE is not set and ${SERVICE_ACCOUNT_NAMESPACE_FILE} cannot be read`, { cause: err });
  }
  if (fromFile === '') throw new Error(`POD_NAMESPACE is not set and ${SERVICE_ACCOUNT_NAMESPACE_FILE} is empty`);
  return fromFile;
}

/** POD_NAMESPACE, else the service account's namespace file, else (outside a cluster) the kubeconfig context's namespace. */
export function namespaceFor(kubeConfig: KubeConfig, podNamespaceSetting: string | undefined): string {
  try {
    return podNamespace({ POD_NAMESPACE: podNamespaceSetting });
  } catch (err) {
    const fromContext = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
    if (fromContext) return fromContext;
    throw err;
  }
}
