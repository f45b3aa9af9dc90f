import { Container, inject, injectable } from 'inversify';
import { describe, expect, it } from 'vitest';
import { nativeIpc } from '@ipcx/adapter-native/inversify';
import { Fifos, IpcBackend, MessageQueues, Pipes, Processes, type Pipes as PipesType } from '@ipcx/core';

@injectable()
class Greeter {
  constructor(@inject(Pipes) private readonly pipes: PipesType) {}

  async roundTrip(text: string): Promise<string> {
    const [reader, writer] = await this.pipes.create();
    try {
      await writer.write(text);
      return new TextDecoder().decode((await reader.read())!);
    } finally {
      await reader.close();
      await writer.close();
    }
  }
}

describe('nativeIpc() ContainerModule', () => {
  it('binds the backend and each factory under core tokens', () => {
    const container = new Container();
    container.load(nativeIpc());
    const backend = container.get<IpcBackend>(IpcBackend);
    expect(backend.name).toBe('native');
    expect(container.get(Pipes)).toBe(backend.pipes);
    expect(container.get(Fifos)).toBe(backend.fifos);
    expect(container.get(MessageQueues)).toBe(backend.messageQueues);
    expect(container.get(Processes)).toBe(backend.processes);
  });

  it('injects a factory into a class constructor', async () => {
    const container = new Container();
    container.load(nativeIpc());
    container.bind(Greeter).toSelf();
    expect(await container.get(Greeter).roundTrip('injected')).toBe('injected');
  });
});
