/** How each pipeline rank's layers split over its model chunks (virtual stages): plan/pipeline.ts chunkLayout, which the memory model reads too. */
export { chunkLayout, type ChunkLayout } from '../../plan/pipeline.js';
