/* Phone-width tables: pages.css shows each table row as a card with its cells one under
 * another, and a cell can only show its column's name if it carries it (CSS cannot reach the
 * header from a cell).  So every body cell gets data-label = its column's header text — for
 * every table on the page, including rows the page's scripts add later. */
"use strict";

(() => {
  /** Header text per column, with colspans spread over the columns they cover. */
  function headers(table) {
    const row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!row) return null;
    const names = [];
    for (const cell of row.cells) {
      for (let i = 0; i < cell.colSpan; i++) names.push(cell.textContent.trim());
    }
    return names;
  }

  function label(table) {
    const names = headers(table);
    if (!names) return;
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const name = names[column] || "";
          if (cell.dataset.label !== name) cell.dataset.label = name;
          column += cell.colSpan;
        }
      }
    }
  }

  function labelAll() {
    for (const table of document.querySelectorAll("table")) label(table);
  }

  labelAll();
  // Only added or removed nodes matter; data-label is an attribute, so setting it does not
  // wake the observer again.
  new MutationObserver(labelAll).observe(document.body, { childList: true, subtree: true });
})();
