// Printable documents: the print button (no inline script under the CSP).
const b = document.getElementById('print-btn');
if (b) b.addEventListener('click', () => window.print());
