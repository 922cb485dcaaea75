import { fileURLToPath } from 'node:url';

/** Where the templates and static assets are, wherever the process was started from. */
export const VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url));
export const ASSETS_DIR = fileURLToPath(new URL('../views/assets/', import.meta.url));
