/**
 * `@ipcx/adapter-native/inversify`: the inversify 8 `ContainerModule` of the native backend. A subpath of its own, so that
 * inversify is an optional peer dependency: apps that do not use dependency injection never load it.
 */
import { ContainerModule } from 'inversify';
import { backendBindings } from '@ipcx/core';
import { createNativeBackend } from './backend.js';

/**
 * Binds the native backend under core's `IpcBackend` token and each factory under its own token
 * (`Pipes`, `MessageQueues`, ...): `container.load(nativeIpc())`.
 */
export function nativeIpc(): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const [token, value] of backendBindings(createNativeBackend())) bind(token).toConstantValue(value);
  });
}
