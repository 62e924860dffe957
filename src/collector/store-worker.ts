import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter, WriteQueue, type WriterOptions, type WriterReply, type WriterRequest } from './store-writer';

/** Worker thread entry: the store's writer (see store-writer.ts). */
if (parentPort !== null) {
  const port = parentPort;
  const queue = new WriteQueue(new BatchWriter((workerData as { data: WriterOptions }).data), (message: WriterReply) => {
    port.postMessage(message);
    if (message.type === 'closed') port.close();
  });
  port.on('message', (request: WriterRequest) => queue.handle(request));
}
