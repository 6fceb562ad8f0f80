"""The report page's inline style sheet and its one script (sorting, filtering, "show all").

The script is allowed by its SHA-256 in the page's Content-Security-Policy, so it must stay a
constant: nothing from the data is ever written into it.

Layout rules that keep the page from scrolling sideways: tables have a fixed layout and the width
of their column on a desktop, so long values wrap inside their cells; on a phone a table scrolls
inside its own box (`.scroll`); charts scale with their viewBox; long words break anywhere.
"""

from __future__ import annotations

STYLE = """
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--bad:#b3261e;--good:#1a7f37;--link:#0969da}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--fg);background:#fff;
overflow-wrap:anywhere}
main{max-width:1160px;margin:0 auto;padding:12px 20px 40px}
h1{font-size:24px;margin:6px 0 0;line-height:1.2}
h2{font-size:19px;margin:30px 0 8px;padding-bottom:2px;border-bottom:1px solid var(--line)}
h2.h3,h3{font-size:16px;margin:16px 0 6px;border:0}small{font-weight:normal}
a{color:var(--link)}code{font:13px ui-monospace,Menlo,Consolas,monospace}
.muted{color:var(--muted)}.small{font-size:13px}p{margin:6px 0}
nav{margin:14px 0 0;font-size:14px;line-height:1.9}
header.top p{margin:2px 0 0}
.lead{margin:12px 0;padding:12px 14px;border:1px solid #d4a72c66;background:#fff8c5;border-radius:8px}
.verdict{font-size:17px;font-weight:600;margin:0 0 8px}
.tops{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:8px 18px}
.top-item{display:flex;flex-direction:column;min-width:0}
.top-item .lbl{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.top-item .big{font-size:19px;line-height:1.25}
.warn{margin:12px 0;padding:10px 14px;border:1px solid #cf222e66;border-left:5px solid var(--bad);
background:#fff5f5;border-radius:8px}.warn ul{margin:4px 0 4px 18px;padding:0}
.warn.info{border-color:#0969da55;border-left-color:#0969da;background:#f3f8ff}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:6px 12px;color:var(--muted);font-size:13px;min-width:0}
.card b{display:block;font-size:22px;color:var(--fg)}.card small{display:block}
.up{color:var(--bad)}.down{color:var(--good)}
.changes{border:1px solid var(--line);border-radius:8px;padding:4px 14px 6px}
.changes h2{margin:6px 0 2px}.changes ul{margin:4px 0;padding-left:18px}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px;table-layout:fixed}
th,td{border-bottom:1px solid #e5e7eb;padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
thead th{background:var(--soft);font-weight:600}
table.sort thead th{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
th{overflow-wrap:break-word}table.sort th.n,table.sort td.n{white-space:nowrap}
.who{display:inline-flex;flex-direction:column;min-width:0;max-width:100%}
.who .nm{font-weight:600;display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;overflow:hidden}
code.sub{font-size:11.5px;color:var(--muted);font-weight:normal}
.gm{font-size:0}.gm::before{content:"\\2026";font-size:11.5px}
.tools{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:4px 0}
input[type=search]{font:inherit;font-size:14px;padding:4px 8px;border:1px solid var(--line);border-radius:6px;
width:min(320px,100%)}
button{font:inherit;font-size:13px;padding:4px 10px;border:1px solid var(--line);border-radius:6px;
background:var(--soft);cursor:pointer}
table.matrix{font-size:13px}
table.matrix th[scope=row]{background:#fff;font-weight:normal;width:22%}
table.matrix thead th{vertical-align:bottom}
table.matrix th.corner{width:22%;color:var(--muted);font-weight:normal}
table.matrix td b{display:block;font-size:15px}
.cz{display:block;font-size:11.5px;color:var(--muted);line-height:1.25}
.cz i,.legend i{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;vertical-align:baseline}
.todo{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:10px}
.client{border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:6px;padding:4px 12px;
min-width:0}
.client h3{margin:6px 0 0}.client ol{margin:4px 0 6px;padding-left:20px;font-size:14px}
.client li{margin:2px 0}.ex{display:block;font-size:12.5px;color:var(--muted)}
figure{margin:10px 0;min-width:0}
figure svg{display:block;width:100%;height:auto}
.narrow-only{display:none}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px;color:var(--fg);margin-top:4px}
.bars2{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:10px 28px}
.hb figcaption{font-weight:600;font-size:14px;margin-bottom:4px}
.hb-row{display:grid;grid-template-columns:minmax(0,42%) 1fr auto;gap:8px;align-items:center;font-size:13px;
margin:3px 0}
.hb-l{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:right}
.hb-b{display:flex;height:14px;min-width:0}.hb-b i{display:block;height:100%}
.hb-n{font-variant-numeric:tabular-nums;color:var(--muted);min-width:3ch}
details{margin:6px 0}
summary{cursor:pointer;color:var(--link);padding:3px 0}
details.cause{border-left:4px solid var(--bad);padding:2px 12px;margin:8px 0;background:#fff}
details.cause summary{color:var(--fg)}
details.cause[open]{background:#fcfcfd}
.example{border:1px solid var(--line);border-radius:6px;padding:8px;margin:8px 0;background:#fff}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 12px;margin:0 0 6px}
dt{color:var(--muted)}dd{margin:0;min-width:0}
.jwt{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,2fr);gap:8px}
pre{font:12px ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere;
background:var(--soft);padding:8px;border-radius:6px;margin:2px 0;max-height:340px;overflow:auto}
.findings{padding-left:20px}.findings li{margin:4px 0}
.method dl{font-size:14px}
@media (max-width:700px){
body{font-size:14px}main{padding:8px 12px 30px}h1{font-size:21px}
.jwt{grid-template-columns:minmax(0,1fr)}
.wide-only{display:none}.narrow-only{display:block}
table{font-size:12.5px}
table.sort,table.plain{min-width:640px}
table.matrix{min-width:700px}
.todo,.bars2{grid-template-columns:minmax(0,1fr)}
.card b{font-size:19px}
dl{grid-template-columns:minmax(0,1fr)}dt{margin-top:4px}
}
@media print{input,button,nav{display:none}pre{max-height:none}a{color:inherit}
tr.more[hidden]{display:table-row}.cause,figure,table{break-inside:avoid-page}h2{break-after:avoid}}
"""

SCRIPT = """(function(){
function num(s){var v=parseFloat(s.replace(/[,%\\s]/g,''));return isNaN(v)?-1e300:v;}
function each(list,fn){Array.prototype.forEach.call(list,fn);}
function key(td){return td.hasAttribute('data-sort')?td.getAttribute('data-sort'):td.textContent;}
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
      rows.sort(function(a,c){var x=key(a.cells[i]),y=key(c.cells[i]);
        var r=numeric?num(x)-num(y):x.localeCompare(y);return asc?r:-r;});
      each(rows,function(r){b.appendChild(r);});
      show(t);
    }
    th.addEventListener('click',go);
    th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
  });
});
function show(t){
  var all=t.getAttribute('data-all')==='1',inp=document.querySelector('input[data-filter="'+t.id+'"]');
  var q=inp?inp.value.toLowerCase():'',n=0,limit=parseInt(t.getAttribute('data-shown')||'0',10);
  each(t.tBodies[0].rows,function(r){
    var hit=r.textContent.toLowerCase().indexOf(q)>=0;
    var room=all||q||!limit||n<limit;
    r.hidden=!(hit&&room);if(hit)n++;
  });
}
each(document.querySelectorAll('table.sort'),function(t){
  var more=t.tBodies[0].querySelectorAll('tr.more').length;
  if(more){t.setAttribute('data-shown',String(t.tBodies[0].rows.length-more));}
});
each(document.querySelectorAll('input[data-filter]'),function(inp){
  var t=document.getElementById(inp.getAttribute('data-filter'));
  inp.addEventListener('input',function(){show(t);});
});
each(document.querySelectorAll('button[data-more]'),function(btn){
  var t=document.getElementById(btn.getAttribute('data-more')),label=btn.textContent;
  btn.addEventListener('click',function(){
    var all=t.getAttribute('data-all')==='1';
    t.setAttribute('data-all',all?'0':'1');btn.textContent=all?label:'Show fewer';show(t);
  });
});
function openTarget(){
  var id=decodeURIComponent(location.hash.slice(1)),el=id&&document.getElementById(id);
  if(el&&el.tagName==='DETAILS'){el.open=true;el.scrollIntoView();}
}
window.addEventListener('hashchange',openTarget);openTarget();
window.addEventListener('beforeprint',function(){each(document.querySelectorAll('details'),function(d){d.open=true;});});
})();"""
