# lme4 references for tests/reml/fixed_factors.rs (issue 20, item 7: a fixed
# factor with many levels, treated as a sparse block of the mixed-model
# equations). Writes the data set and lme4's REML fit of
# `y ~ f + (1|g)`:
#
#   cd tests/data && Rscript r/fixed_factor.R
#
# Nothing in CI runs this; its output is checked in as
# tests/data/fixed_factor/small.csv and tests/data/fixed_factor/small_lme4.json.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
invisible(Sys.setlocale("LC_COLLATE", "C"))

ctrl <- lmerControl(optimizer = "nloptwrap",
                    optCtrl = list(ftol_abs = 1e-15, xtol_abs = 1e-13,
                                   ftol_rel = 1e-15, xtol_rel = 1e-13,
                                   maxeval = 100000),
                    calc.derivs = FALSE)

# 90 levels of a fixed factor f (5 or 6 rows each, so that 90 columns of X
# certify their rank by the fast path), 30 levels of a random factor g
# crossed with it at random, n = 500.
set.seed(20)
n <- 500
nf <- 90
ng <- 30
f <- sprintf("f%03d", c(1:nf, sample(nf, n - nf, replace = TRUE)))
g <- sprintf("g%02d", c(rep_len(1:ng, nf), sample(ng, n - nf, replace = TRUE)))
a <- rnorm(nf, sd = 2)
b <- rnorm(ng, sd = 0.8)
y <- 10 + a[as.integer(substr(f, 2, 4))] + b[as.integer(substr(g, 2, 3))] + rnorm(n)
d <- data.frame(y = round(y, 6), f = f, g = g)
write.csv(d, "fixed_factor/small.csv", row.names = FALSE, quote = FALSE)

d <- read.csv("fixed_factor/small.csv", stringsAsFactors = TRUE)
m <- lmer(y ~ f + (1 | g), data = d, REML = TRUE, control = ctrl)
vc <- as.data.frame(VarCorr(m))
re <- ranef(m)$g
out <- list(
  source = "tests/data/r/fixed_factor.R, lme4 1.1.x, REML, tight nloptwrap tolerances",
  formula = "y ~ f + (1|g)",
  n = nobs(m),
  sigma2_g = vc$vcov[vc$grp == "g"],
  sigma2_residual = vc$vcov[vc$grp == "Residual"],
  loglik = as.numeric(logLik(m)),
  beta_names = names(fixef(m)),
  beta = unname(fixef(m)),
  beta_se = unname(sqrt(diag(as.matrix(vcov(m))))),
  blup_levels = rownames(re),
  blup = unname(re[, 1])
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "fixed_factor/small_lme4.json")
