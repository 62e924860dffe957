import { PAGE_CSS } from './page-css';
import { PAGE_HTML } from './page-html';
import { PAGE_JS } from './page-js';

export { PAGE_CSS, PAGE_HTML, PAGE_JS };

/** The dashboard's static files, embedded as strings so they ship inside dist with no copy step. */
export interface PublicFile {
  paths: string[];
  contentType: string;
  body: string;
}

export const PUBLIC_FILES: readonly PublicFile[] = [
  { paths: ['/', '/index.html'], contentType: 'text/html; charset=utf-8', body: PAGE_HTML },
  { paths: ['/app.js'], contentType: 'text/javascript; charset=utf-8', body: PAGE_JS },
  { paths: ['/app.css'], contentType: 'text/css; charset=utf-8', body: PAGE_CSS },
];
