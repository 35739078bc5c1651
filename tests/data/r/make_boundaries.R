# Reference fits for tests/reml/boundary_optima.rs (issue 19): random slopes
# near a singular fit, with lme4 run tight from two optimisers (the better
# optimum kept), REML and ML; and nlme's Wheat2 with spatial correlation.
#
#   cd tests/data && Rscript r/make_boundaries.R
#
# Writes boundaries/slopes_<k>.csv, boundaries/slopes.json, Wheat2.csv and
# boundaries/wheat2.json. Needs lme4, nlme, jsonlite.
suppressMessages({library(lme4); library(nlme); library(jsonlite)})

tight <- function(formula, data, reml) {
  ctl1 <- lmerControl(optimizer = "bobyqa",
                      optCtrl = list(rhoend = 1e-12, maxfun = 1e6),
                      check.conv.singular = "ignore")
  ctl2 <- lmerControl(optimizer = "nloptwrap",
                      optCtrl = list(xtol_abs = 1e-14, ftol_abs = 1e-16,
                                     xtol_rel = 0, ftol_rel = 0, maxeval = 1e6),
                      check.conv.singular = "ignore")
  fits <- list(lmer(formula, data, REML = reml, control = ctl1),
               lmer(formula, data, REML = reml, control = ctl2))
  ll <- sapply(fits, function(f) as.numeric(logLik(f)))
  fits[[which.max(ll)]]
}

describe <- function(f) {
  vc <- as.data.frame(VarCorr(f))
  list(loglik = as.numeric(logLik(f)),
       singular = isSingular(f, tol = 1e-4),
       theta = unname(getME(f, "theta")),
       var_intercept = vc$vcov[1], var_slope = vc$vcov[2],
       cov = vc$vcov[3], cor = vc$sdcor[3], sigma2 = sigma(f)^2,
       beta = unname(fixef(f)))
}

# Random slopes y ~ x + (1 + x | g): 15 groups x 8 rows; slope standard
# deviations from 0 (singular) to large (interior), correlation 0.8.
slope_sd <- c(0.0, 0.6, 0.05, 0.45, 0.0, 0.3, 0.1, 0.8)
out <- list()
for (k in seq_along(slope_sd)) {
  set.seed(1900 + k)
  q <- 15; m <- 8
  g <- rep(seq_len(q), each = m)
  x <- round(rnorm(q * m), 4)
  rho <- 0.8
  a <- rnorm(q)
  b <- slope_sd[k] * (rho * a + sqrt(1 - rho^2) * rnorm(q))
  y <- round(1 + 0.5 * x + a[g] + b[g] * x + rnorm(q * m), 6)
  d <- data.frame(y = y, x = x, g = paste0("g", g))
  write.csv(d, sprintf("boundaries/slopes_%d.csv", k), row.names = FALSE, quote = FALSE)
  reml <- tight(y ~ x + (1 + x | g), d, TRUE)
  ml <- tight(y ~ x + (1 + x | g), d, FALSE)
  out[[k]] <- list(file = sprintf("slopes_%d.csv", k), slope_sd = slope_sd[k],
                   reml = describe(reml), ml = describe(ml))
}
writeLines(toJSON(list(source = "tests/data/r/make_boundaries.R",
                       lme4 = as.character(packageVersion("lme4")),
                       fits = out), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "boundaries/slopes.json")

# nlme's Wheat2: gls(yield ~ variety - 1) with spatial correlation + nugget,
# REML, tight, from several starting ranges (the spherical likelihood has
# local maxima): the best maximum is the reference.
data(Wheat2)
w <- as.data.frame(Wheat2)
write.csv(w[, c("Block", "variety", "yield", "latitude", "longitude")],
          "Wheat2.csv", row.names = FALSE, quote = FALSE)
ctl <- glsControl(maxIter = 1000, msMaxIter = 1000, tolerance = 1e-12,
                  msTol = 1e-14, returnObject = TRUE)
best <- function(make) {
  fits <- list()
  for (r0 in c(2, 5, 10, 20, 30, 50)) {
    f <- try(gls(yield ~ variety - 1, w, correlation = make(r0), control = ctl),
             silent = TRUE)
    if (!inherits(f, "try-error")) fits[[length(fits) + 1]] <- f
  }
  ll <- sapply(fits, function(f) as.numeric(logLik(f)))
  f <- fits[[which.max(ll)]]
  cs <- coef(f$modelStruct$corStruct, unconstrained = FALSE)
  list(loglik = as.numeric(logLik(f)), range = unname(cs["range"]),
       nugget = unname(cs["nugget"]), sigma2 = f$sigma^2,
       all_logliks = ll)
}
wheat <- list(
  gaussian = best(function(r) corGaus(c(r, 0.2), form = ~ latitude + longitude, nugget = TRUE)),
  spherical = best(function(r) corSpher(c(r, 0.2), form = ~ latitude + longitude, nugget = TRUE)),
  exponential = best(function(r) corExp(c(r, 0.2), form = ~ latitude + longitude, nugget = TRUE)))
writeLines(toJSON(list(source = "tests/data/r/make_boundaries.R",
                       nlme = as.character(packageVersion("nlme")),
                       model = "gls(yield ~ variety - 1, Wheat2, correlation = cor*(form = ~ latitude + longitude, nugget = TRUE)), REML",
                       fits = wheat), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "boundaries/wheat2.json")
