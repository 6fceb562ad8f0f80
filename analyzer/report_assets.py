"""The report page's inline style sheet and its one script (sorting and filtering tables).

The script is allowed by its SHA-256 in the page's Content-Security-Policy, so it must stay a
constant: nothing from the data is ever written into it.
"""

from __future__ import annotations

STYLE = """
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bad:#cf222e;--good:#1a7f37}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:var(--fg);background:#fff}
main{max-width:1120px;margin:0 auto;padding:12px 16px 40px}
h1{font-size:24px;margin:8px 0 0}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:20px 0 6px}small{font-weight:normal}
a{color:#0969da}code{font:13px ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.muted{color:var(--muted)}nav{margin:12px 0;font-size:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:10px;margin:14px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;color:var(--muted);font-size:13px}
.card b{display:block;font-size:24px;color:var(--fg)}.card small{display:block}
.up{color:var(--bad)}.down{color:var(--good)}
.verdict{font-size:16px;background:#fff8c5;border:1px solid #d4a72c66;border-radius:8px;padding:10px 12px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td code{font-size:12px}
.bar{background:var(--bad);height:10px;display:inline-block;border-radius:2px}.bar.ok{background:var(--good)}
input[type=search]{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;
width:min(320px,100%)}
figure{margin:10px 0}figure svg{max-width:100%;height:auto;display:block}
.cause{border-left:4px solid var(--bad);padding-left:12px;margin:18px 0}
.example{border:1px solid var(--line);border-radius:6px;padding:8px;margin:8px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 6px}dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere}.jwt{display:grid;grid-template-columns:1fr 2fr;gap:8px}
pre{font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;
background:#f6f8fa;padding:8px;border-radius:6px;margin:2px 0;max-height:340px;overflow:auto}
summary{cursor:pointer;color:#0969da}
@media (max-width:640px){body{font-size:14px}.jwt{grid-template-columns:1fr}main{padding:8px}
table{min-width:620px}
.card b{font-size:20px}}
@media print{input,nav{display:none}pre{max-height:none}th{position:static}a{color:inherit}
.cause,figure,table{break-inside:avoid-page}h2{break-after:avoid}}
"""

SCRIPT = """(function(){
function num(s){var v=parseFloat(s.replace(/[,%\\s]/g,''));return isNaN(v)?-1e300:v;}
function each(list,fn){Array.prototype.forEach.call(list,fn);}
each(document.querySelectorAll('table.sort'),function(t){
  var hs=t.tHead.rows[0].cells;
  each(hs,function(th,i){
    th.tabIndex=0;
    function go(){
      var cur=th.getAttribute('aria-sort'),numeric=th.classList.contains('n');
      var asc=cur?cur==='descending':!numeric;
      each(hs,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);
      rows.sort(function(a,c){var x=a.cells[i].textContent,y=c.cells[i].textContent;
        var r=numeric?num(x)-num(y):x.localeCompare(y);return asc?r:-r;});
      each(rows,function(r){b.appendChild(r);});
    }
    th.addEventListener('click',go);
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
  });
});
each(document.querySelectorAll('input[data-filter]'),function(inp){
  var t=document.getElementById(inp.getAttribute('data-filter'));
  inp.addEventListener('input',function(){var q=inp.value.toLowerCase();
    each(t.tBodies[0].rows,function(r){r.hidden=r.textContent.toLowerCase().indexOf(q)<0;});});
});
window.addEventListener('beforeprint',function(){each(document.querySelectorAll('details'),function(d){d.open=true;});});
})();"""
