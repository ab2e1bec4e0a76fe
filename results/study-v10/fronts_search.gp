# approxmap study: fronts of every run, energy against search-subset loss (what the runs optimised) (data: fronts.dat)
reset
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo noenhanced size 960,640 } else { set terminal png noenhanced size 960,640 }
set output 'fronts_search.png'
set grid
set key top right
set title 'fronts: energy against search-subset loss (what the runs optimised)'
set xlabel 'energy relative to the all-exact map'
set ylabel 'accuracy loss vs exact int8 (pp)'
plot 'fronts.dat' index 0 using 1:2 with linespoints pt 7 title 'layer-s1', \
     'fronts.dat' index 1 using 1:2 with linespoints pt 8 title 'layer-s2', \
     'fronts.dat' index 2 using 1:2 with linespoints pt 9 title 'greedy-filter', \
     'fronts.dat' index 3 using 1:2 with linespoints pt 10 title 'greedy-kernel', \
     'fronts.dat' index 4 using 1:2 with linespoints pt 11 title 'filter-s1', \
     'fronts.dat' index 5 using 1:2 with linespoints pt 12 title 'filter-s2', \
     'fronts.dat' index 6 using 1:2 with linespoints pt 7 title 'filter2x-s1', \
     'fronts.dat' index 7 using 1:2 with linespoints pt 8 title 'filter2x-s2', \
     'fronts.dat' index 8 using 1:2 with linespoints pt 9 title 'kernel-s1', \
     'fronts.dat' index 9 using 1:2 with linespoints pt 10 title 'kernel-s2', \
     'fronts.dat' index 10 using 1:2 with linespoints pt 11 title 'layer2x-s1', \
     'fronts.dat' index 11 using 1:2 with linespoints pt 12 title 'layer2x-s2'
