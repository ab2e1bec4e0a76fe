# approxmap study: the greedy map chosen at search loss <= 1 pp (data: heat_greedy_loss1.dat)
reset
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo noenhanced size 960,640 } else { set terminal png noenhanced size 960,640 }
set output 'heat_greedy_loss1.png'
set title 'greedy, search loss <= 1 pp: relative energy per multiplication of each filter'
set xlabel 'layer'
set ylabel 'output channel'
set cblabel 'relative energy'
set xrange [-0.5:9.5]
set yrange [-0.5:63.5]
set cbrange [0:1]
set palette rgb 33,13,10
set xtics 1
plot 'heat_greedy_loss1.dat' using 1:2:(0.5):(0.5):3 with boxxyerror fc palette fs solid notitle
