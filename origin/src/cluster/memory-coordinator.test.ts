import { coordinatorSuite } from './coordinator-suite.ts';
import { MemoryCoordinator } from './memory-coordinator.ts';

coordinatorSuite('MemoryCoordinator', async () => new MemoryCoordinator());
